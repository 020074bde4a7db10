/** Types of scripts/build-assets.mjs, for vitest.config.ts and the tests that read the built assets. */
export declare const ASSETS_DIR: string;
export declare function buildAssets(options?: { outDir?: string; minify?: boolean }): Promise<string[]>;
