import { sha256Hex } from "./crypto";

export const newId = (): string => crypto.randomUUID();

/** An id derived from a key: a UUID (version 8, RFC 9562 custom) made of the key's SHA-256. */
export async function deterministicId(...parts: string[]): Promise<string> {
  const hex = (await sha256Hex(parts.join("\u0000"))).slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
