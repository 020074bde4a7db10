/** Types of scripts/layers.mjs, for the tests that check the layer table. */
export interface LayerRule {
  /** Layers ("services") or modules/directories of one ("api/router") this layer may import; "*": all. */
  may: "*" | string[];
  why: string;
}
export declare const LAYERS: Record<string, LayerRule>;
export declare const PENDING_EDGES: [from: string, to: string, change: string][];
export declare function layerOf(path: string): string | null;
export declare function importVerdict(from: string, to: string, options?: { pending?: string[][] }): string | null;
export declare function layerRows(): [layer: string, may: string, why: string][];
export declare function layersTable(): string;
export declare function documentedRows(markdown: string): string[][];
export declare const directionRule: unknown;
