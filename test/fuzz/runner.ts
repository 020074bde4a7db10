/**
 * Property-based fuzzing of every operation of the OpenAPI document (fast-check). For each operation, in an
 * organization of its own, FUZZ_RUNS generated requests (valid and invalid, see cases.ts) must each:
 * - never answer 5xx;
 * - answer a status the operation documents, with a body that matches the documented schema for it;
 * - be refused (4xx) when the document's schemas say the request is invalid or names an unknown id;
 * - when refused, leave D1 unchanged (digest on every request, full snapshots on a sample; see db-state.ts).
 */
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { validate } from "../support/json-schema";
import { Fixtures, KNOWN_DEFECTS, bodyValue, pathFixture, pathValues } from "../support/openapi-fixtures";
import {
  NO_CREDENTIAL,
  adminCredential,
  apiKeyCredential,
  documentedResponse,
  jwtCredential,
  loadDocument,
  operationsOf,
  send,
  type Answer,
  type Credential,
  type OpenApiDocument,
  type Operation,
  type OutgoingRequest,
} from "../support/openapi";
import { FIXTURE, caseArbitrary, describeCase, type CredentialKind, type FuzzCase } from "./cases";
import { dbDigest, dbSnapshot, diffSnapshots, purgeOrg } from "./db-state";

export const FUZZ_RUNS = 200;
/** Every Nth request of an operation also compares full snapshots of D1. */
const FULL_SNAPSHOT_EVERY = 10;
const SEED = 20_261_123;

export interface OperationStats {
  operation: string;
  requests: number;
  mustReject: number;
  statuses: Record<number, number>;
  fullSnapshots: number;
  /** Refused requests whose digest moved because of background work (a re-run with full snapshots changed nothing). */
  backgroundNoise: number;
}

const seedOf = (id: string) => [...id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, SEED);
const orgOf = (op: Operation) => `fuzz-${op.id.replace(/[^A-Za-z0-9._-]/g, "_")}`.slice(0, 64);

function problemsOf(op: Operation, doc: OpenApiDocument, c: FuzzCase, res: Answer): string[] {
  const out: string[] = [];
  if (res.status >= 500) out.push(`server error ${res.status}`);
  const documented = documentedResponse(op, res.status, doc);
  if (!documented) out.push(`status ${res.status} is not documented (documented: ${Object.keys(op.responses).join(", ")})`);
  else if (documented.schema) {
    if (res.json === undefined) out.push(`the body is not JSON (${res.contentType})`);
    else
      out.push(
        ...validate(documented.schema, res.json, doc, { response: true })
          .slice(0, 5)
          .map((e) => `response ${e}`),
      );
  }
  if (c.mustReject.length > 0 && (res.status < 400 || res.status >= 500))
    out.push(`answered ${res.status} although the request must be refused: ${c.mustReject.join("; ")}`);
  return out;
}

/** Re-sends a refused request between full snapshots: a real write shows up every time, background work does not. */
async function confirmChange(op: Operation, req: OutgoingRequest): Promise<string[] | null> {
  let diff: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await dbSnapshot();
    const res = await send(op, req);
    const after = await dbSnapshot();
    if (res.status < 400 || res.status >= 500) return null;
    diff = diffSnapshots(before, after);
    if (diff.length === 0) return null;
  }
  return diff;
}

function toRequest(c: FuzzCase, params: Record<string, string>, credential: Credential): OutgoingRequest {
  const resolved = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, v === FIXTURE ? params[k] : v]));
  const req: OutgoingRequest = { params: resolved, query: c.query, headers: c.headers, credential };
  if (c.body.kind === "json") req.json = c.body.value;
  if (c.body.kind === "raw") req.raw = { text: c.body.text, contentType: c.body.contentType };
  return req;
}

async function fuzzOperation(op: Operation, doc: OpenApiDocument): Promise<OperationStats> {
  const org = orgOf(op);
  const fixtures = new Fixtures(org);
  let params = await pathValues(op, fixtures);
  const body = await bodyValue(op, fixtures, doc);
  const credentials: Record<CredentialKind, Credential> = {
    admin: adminCredential(org),
    api_key: op.scope ? await apiKeyCredential(org, [op.scope]) : NO_CREDENTIAL,
    jwt: op.scope ? await jwtCredential(org, [op.scope]) : NO_CREDENTIAL,
    none: NO_CREDENTIAL,
  };
  const stats: OperationStats = {
    operation: op.id,
    requests: 0,
    mustReject: 0,
    statuses: {},
    fullSnapshots: 0,
    backgroundNoise: 0,
  };

  // The digest after one request is the digest before the next (background work in between is sorted out
  // by confirmChange); it is taken afresh after anything else the test itself writes.
  let digest: string | null = null;
  const property = fc.asyncProperty(caseArbitrary(op, doc, { params, body }), async (c) => {
    const req = toRequest(c, params, credentials[c.credential]);
    const full = stats.requests % FULL_SNAPSHOT_EVERY === 0;
    const digest0 = digest ?? (await dbDigest());
    const snap0 = full ? await dbSnapshot() : null;
    const res = await send(op, req);
    const digest1 = await dbDigest();
    digest = digest1;
    const snap1 = full ? await dbSnapshot() : null;
    stats.requests++;
    stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
    if (c.mustReject.length > 0) stats.mustReject++;
    if (full) stats.fullSnapshots++;

    const where = `${op.method} ${res.url}\n  case: ${describeCase(c)}\n  answer: ${res.status} ${res.text.slice(0, 600)}`;
    const problems = problemsOf(op, doc, c, res);
    if (problems.length > 0) throw new Error(`${op.id}: ${problems.join("\n  ")}\n  ${where}`);

    if (res.status >= 400) {
      const moved = digest0 !== digest1 || (snap0 !== null && diffSnapshots(snap0, snap1!).length > 0);
      if (moved) {
        const diff = await confirmChange(op, req);
        if (diff)
          throw new Error(`${op.id}: a refused request (${res.status}) changed stored data:\n  ${diff.join("\n  ")}\n  ${where}`);
        stats.backgroundNoise++;
        digest = null;
      }
    } else if (op.method === "DELETE") {
      // The fixture is gone: later cases get a fresh one, so the success path stays covered.
      fixtures.reset(pathFixture(op)?.consumes);
      params = await pathValues(op, fixtures);
      digest = null;
    }
  });
  try {
    await fc.assert(property, { numRuns: FUZZ_RUNS, seed: seedOf(op.id), endOnFailure: true });
  } finally {
    await purgeOrg(org);
  }
  return stats;
}

function summary(all: OperationStats[]): string {
  const lines = [
    "| operation | requests | must be refused | 2xx | 4xx | 5xx | statuses | full snapshots | background noise |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  const sum = (s: OperationStats, lo: number, hi: number) =>
    Object.entries(s.statuses).reduce((n, [k, v]) => (Number(k) >= lo && Number(k) < hi ? n + v : n), 0);
  for (const s of all) {
    const statuses = Object.entries(s.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    lines.push(
      `| ${s.operation} | ${s.requests} | ${s.mustReject} | ${sum(s, 200, 300)} | ${sum(s, 400, 500)} | ${sum(s, 500, 600)} | ${statuses} | ${s.fullSnapshots} | ${s.backgroundNoise} |`,
    );
  }
  return lines.join("\n");
}

/** Declares one test per selected operation of the document (selected by position, to split the work across files). */
export function fuzzOperations(name: string, select: (index: number) => boolean): void {
  describe(name, async () => {
    const doc = await loadDocument();
    const ops = operationsOf(doc).filter((_, i) => select(i));
    const done: OperationStats[] = [];
    afterAll(() => {
      const requests = done.reduce((n, s) => n + s.requests, 0);
      console.log(`[fuzz] ${name}: ${done.length} operations, ${requests} requests\n${summary(done)}`);
    });
    for (const op of ops) {
      // A defect reported to a file's owner (KNOWN_DEFECTS) makes its operation an expected failure until fixed.
      const test = `fuzz:${op.id}` in KNOWN_DEFECTS ? it.fails : it;
      test(`${op.id} (${op.method} ${op.path}): ${FUZZ_RUNS} generated requests`, async () => {
        done.push(await fuzzOperation(op, doc));
      }, 240_000);
    }
  });
}
