/** Types of scripts/import-graph.mjs, for test/node/import-graph.test.ts. */
export interface ImportGraph {
  files: string[];
  /** Each file with the files it imports, type imports included. */
  all: Map<string, string[]>;
  /** Each file with the files it imports at run time. */
  runtime: Map<string, string[]>;
}
export interface Circle {
  files: string[];
  /** One shortest round trip, first file repeated at the end. */
  example: string[];
}
export interface LayerReport {
  files: number;
  circles: { runtime: Circle[]; all: Circle[] };
  arrows: { from: string; to: string; message: string }[];
  pending: string[][];
}
export declare function importGraph(root?: string): ImportGraph;
export declare function layerReport(root?: string, options?: { pending?: string[][] }): LayerReport;
