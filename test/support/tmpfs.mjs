/**
 * Miniflare keeps the tests' "in-memory" storage (D1, Durable Objects, one directory per workerd) in files
 * under os.tmpdir(), SQLite files written through to the disk. On the project's 2-core build machine two of
 * the heaviest files (isolation-matrix, queue-semantics) took 108 s on disk and 47 s on a RAM file system
 * (docs/testing.md). So, unless TMPDIR is set, the temporary directory becomes /dev/shm (Linux's tmpfs)
 * when it is there and writable; Miniflare removes its directory when it stops. A .mjs file: the
 * project's TypeScript is typed for workerd, not Node.
 */
import { accessSync, constants } from "node:fs";

export function preferRamTmpdir() {
  if (process.env.TMPDIR) return;
  try {
    accessSync("/dev/shm", constants.W_OK);
    process.env.TMPDIR = "/dev/shm";
  } catch {
    /* no tmpfs here (macOS, Windows): keep the default */
  }
}
