/** Points os.tmpdir() at /dev/shm (a RAM file system) for Miniflare's storage, unless TMPDIR is set. */
export function preferRamTmpdir(): void;
