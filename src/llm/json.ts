/**
 * The JSON object in a model's answer: the whole text, a ```json fenced block, or the outermost {...}. Models wrap
 * JSON in prose and fences however they are asked; anything else is "no JSON" and the caller says so.
 */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates: string[] = [text.trim()];
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fence) candidates.push(fence[1].trim());
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start !== -1 && end > start) candidates.push(text.slice(start, end + 1));
  let error = "The answer contains no JSON object";
  for (const c of candidates) {
    if (!c.startsWith("{")) continue;
    try {
      return { ok: true, value: JSON.parse(c) as unknown };
    } catch (err) {
      error = `The answer's JSON does not parse: ${(err as Error).message}`;
    }
  }
  return { ok: false, error };
}
