/** Types of scripts/scope-table.mjs, for test/security/scope-table.test.ts. */
export interface ScopeRow {
  id: string;
  method: string;
  path: string;
  scope: string;
  trigger: boolean;
}
export declare const HEADER: string;
export declare function scopeRows(doc: { paths: Record<string, Record<string, unknown>> }): ScopeRow[];
export declare function scopeTable(rows: ScopeRow[]): string[];
export declare function scopeDrift(markdown: string, rows: ScopeRow[]): string[];
export declare function withTable(markdown: string, rows: ScopeRow[]): string;
