/**
 * A Server-Sent Events parser following the WHATWG event-stream rules: lines end in CRLF, LF or CR; `:` starts a
 * comment; `field: value` drops one leading space; `data` lines accumulate joined by LF; a blank line dispatches the
 * event (none when data is empty); `event` defaults to "message". It reads the body chunk by chunk as it arrives.
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  const line = function* (text: string): Generator<SseEvent> {
    if (text === "") {
      if (data.length > 0) yield { event: event || "message", data: data.join("\n"), ...(id !== undefined ? { id } : {}) };
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
  };
  for (;;) {
    const { done, value } = await reader.read();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    // A trailing CR may be the first half of CRLF: keep it until more arrives.
    const parts = buffer.split(/\r\n|\n|\r(?!$)/);
    buffer = parts.pop() ?? "";
    for (const p of parts) yield* line(p);
    if (done) break;
  }
  if (buffer !== "") yield* line(buffer.replace(/\r$/, ""));
}
