// The few Node APIs the Node-side tests call (the layering's, test/node/pdf-text.test.ts):
// the project installs no @types/node (see test/browser/support/node.d.ts, whose declarations these extend).

declare module "node:fs" {
  export function readFileSync(path: string, encoding: "utf8"): string;
  export function readdirSync(path: string): string[];
  export function mkdirSync(path: string, options: { recursive: true }): string | undefined;
  export function mkdtempSync(prefix: string): string;
  export function writeFileSync(path: string, data: string | Uint8Array): void;
  export function rmSync(path: string, options: { recursive: true; force: true }): void;
}

declare module "node:path" {
  export function dirname(path: string): string;
}

declare module "node:child_process" {
  export function spawnSync(
    command: string,
    args: readonly string[],
    options: { encoding: "utf8" },
  ): { status: number | null; stdout: string; stderr: string; error?: Error };
}
