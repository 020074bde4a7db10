// The few Node APIs the browser-test harness (test/browser/) uses. The browser tests run in Node
// (vitest.browser.config.ts), but the project does not install @types/node: its tsconfig types are the
// Workers' ones, whose globals would clash with Node's. Like src/types/node-crypto.d.ts, this declares only
// what is called, with the signatures it is called with.

declare module "node:child_process" {
  interface Readable {
    setEncoding(encoding: "utf8"): void;
    on(event: "data", listener: (chunk: string) => void): void;
  }
  export interface ChildProcess {
    readonly pid?: number;
    readonly exitCode: number | null;
    readonly signalCode: string | null;
    readonly stdout: Readable | null;
    readonly stderr: Readable | null;
    once(event: "exit", listener: (code: number | null, signal: string | null) => void): void;
    once(event: "error", listener: (err: Error) => void): void;
  }
  export interface SpawnOptions {
    cwd?: string;
    env?: Record<string, string | undefined>;
    stdio?: ["ignore" | "pipe", "ignore" | "pipe", "ignore" | "pipe"];
    /** A new process group led by the child, so that the whole tree can be signalled at once. */
    detached?: boolean;
  }
  export function spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  export function execFileSync(file: string, args: readonly string[], options: { encoding: "utf8" }): string;
}

declare module "node:http" {
  export interface IncomingMessage {
    readonly method?: string;
    readonly url?: string;
    readonly headers: Record<string, string | string[] | undefined>;
    setEncoding(encoding: "utf8"): void;
    [Symbol.asyncIterator](): AsyncIterator<string>;
  }
  export interface ServerResponse {
    writeHead(status: number, headers: Record<string, string>): void;
    end(body?: string): void;
  }
  export interface Server {
    listen(port: number, host: string, callback: () => void): void;
    address(): { port: number } | string | null;
    close(callback: (err?: Error) => void): void;
    closeAllConnections(): void;
  }
  export function createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
}

declare module "node:net" {
  export interface Server {
    listen(port: number, host: string, callback: () => void): void;
    address(): { port: number } | string | null;
    close(callback: (err?: Error) => void): void;
    once(event: "error", listener: (err: Error) => void): void;
  }
  export function createServer(): Server;
}

declare module "node:fs/promises" {
  export function mkdtemp(prefix: string): Promise<string>;
  export function mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
  export function readdir(path: string): Promise<string[]>;
  export function readFile(path: string): Promise<Uint8Array>;
  export function readFile(path: string, encoding: "utf8"): Promise<string>;
  export function writeFile(path: string, data: string): Promise<void>;
  export function rm(path: string, options: { recursive: true; force: true }): Promise<void>;
}

declare module "node:os" {
  export function tmpdir(): string;
}

declare module "node:path" {
  export function join(...parts: string[]): string;
}

declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
