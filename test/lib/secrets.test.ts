import { describe, expect, it } from "vitest";
import {
  SecretError,
  blobKeyId,
  decryptSecret,
  encryptSecret,
  keyIdOf,
  keyMaterial,
  needsReencryption,
  reencryptSecret,
} from "../../src/lib/secrets";

const KEY_A = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
const KEY_B = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));
const AAD = "org-a:flow:f1:trigger:t1";

async function rejection(p: Promise<unknown>): Promise<SecretError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SecretError);
    return err as SecretError;
  }
  throw new Error("expected a rejection");
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

describe("secrets at rest", () => {
  it("round-trips with a fresh IV each time, in the documented format", async () => {
    const env = { ENCRYPTION_KEY: KEY_A };
    const a = await encryptSecret(env, "whsec_top-secret", AAD);
    const b = await encryptSecret(env, "whsec_top-secret", AAD);
    expect(a).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("top-secret");
    expect(await decryptSecret(env, a, AAD)).toBe("whsec_top-secret");
    expect(await decryptSecret(env, b, AAD)).toBe("whsec_top-secret");
  });

  it("names the key by the first 8 hex chars of SHA-256 of the raw key", async () => {
    const raw = new Uint8Array(32).fill(7);
    const digest = hex(await crypto.subtle.digest("SHA-256", raw));
    expect(keyIdOf(raw)).toBe(digest.slice(0, 8));
    expect(blobKeyId(await encryptSecret({ ENCRYPTION_KEY: KEY_A }, "x", AAD))).toBe(digest.slice(0, 8));
  });

  it("derives a passphrase key with HKDF-SHA-256 (same bytes as WebCrypto's HKDF)", async () => {
    const pass = "correct horse battery staple";
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(pass), "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new TextEncoder().encode("automation-engine/secrets"),
        info: new TextEncoder().encode("aes-256-gcm v1"),
      },
      base,
      256,
    );
    expect(hex(keyMaterial(pass).buffer as ArrayBuffer)).toBe(hex(bits));
    const env = { ENCRYPTION_KEY: pass };
    expect(await decryptSecret(env, await encryptSecret(env, "s", AAD), AAD)).toBe("s");
  });

  it("fails closed with a wrong key, a tampered ciphertext or a moved AAD", async () => {
    const blob = await encryptSecret({ ENCRYPTION_KEY: KEY_A }, "secret", AAD);
    expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_B }, blob, AAD))).code).toBe("unknown_key");

    const [v, kid, iv, data] = blob.split(".");
    const flipped = (data[0] === "A" ? "B" : "A") + data.slice(1);
    expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_A }, [v, kid, iv, flipped].join("."), AAD))).code).toBe(
      "decrypt_failed",
    );
    expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_A }, blob, "org-b:flow:f1:trigger:t1"))).code).toBe(
      "decrypt_failed",
    );
    expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_A }, blob, "org-a:flow:f2:trigger:t1"))).code).toBe(
      "decrypt_failed",
    );
  });

  it("rejects malformed blobs and refuses to encrypt without a key", async () => {
    for (const bad of [
      "",
      "plaintext",
      "v2.abcdef01.AAAA.AAAA",
      "v1.abcdef01.!!.AAAA",
      "v1.xyz.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
    ]) {
      expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_A }, bad, AAD))).code).toBe("malformed");
    }
    expect((await rejection(encryptSecret({}, "x", AAD))).code).toBe("not_configured");
    expect((await rejection(encryptSecret({ ENCRYPTION_KEY: "" }, "x", AAD))).code).toBe("not_configured");
  });

  it("keeps old ciphertexts readable after a rotation and re-encrypts them with the new key", async () => {
    const old = await encryptSecret({ ENCRYPTION_KEY: KEY_A }, "rotate-me", AAD);
    const rotated = { ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEYS_PREVIOUS: ` ${KEY_A} , ` };
    expect(needsReencryption({ ENCRYPTION_KEY: KEY_A }, old)).toBe(false);
    expect(needsReencryption(rotated, old)).toBe(true);
    expect(await decryptSecret(rotated, old, AAD)).toBe("rotate-me");

    const fresh = await reencryptSecret(rotated, old, AAD);
    expect(blobKeyId(fresh)).not.toBe(blobKeyId(old));
    expect(needsReencryption(rotated, fresh)).toBe(false);
    expect(await decryptSecret({ ENCRYPTION_KEY: KEY_B }, fresh, AAD)).toBe("rotate-me");
    // Once the old key is dropped, the old blob no longer opens; the re-encrypted one still does.
    expect((await rejection(decryptSecret({ ENCRYPTION_KEY: KEY_B }, old, AAD))).code).toBe("unknown_key");
    // Re-encryption keeps the owner binding.
    expect((await rejection(reencryptSecret(rotated, old, "org-a:flow:f1:trigger:other"))).code).toBe("decrypt_failed");
  });
});
