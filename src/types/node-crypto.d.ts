// The two synchronous node:crypto functions src/lib/secrets.ts uses (workerd provides them under the
// nodejs_compat flag; the project does not install @types/node). Key ids must be computable synchronously.
declare module "node:crypto" {
  interface Hash {
    update(data: Uint8Array | string): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
  export function hkdfSync(digest: "sha256", ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, keylen: number): ArrayBuffer;
}
