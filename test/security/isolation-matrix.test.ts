/**
 * The tenant isolation matrix, generated from GET /openapi.json at run time: every authenticated operation is
 * checked for scopes (every credential lacking the declared scope → 403, API keys and JWTs; exactly the scope →
 * through; no credential → 401) and for tenancy (another organization's credentials on this organization's ids →
 * 404 exactly as for an unknown id, nothing changes; operations without ids never show this organization's data).
 * A new operation is covered without editing this file; one whose ids cannot be created fails with instructions.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scope } from "../../src/lib/principal";
import { dbSnapshot, type Snapshot } from "../fuzz/db-state";
import {
  BODY_ID_OPERATIONS,
  KNOWN_DEFECTS,
  Fixtures,
  bodyValue,
  isNamespaceParam,
  pathValues,
} from "../support/openapi-fixtures";
import {
  NO_CREDENTIAL,
  adminCredential,
  apiKeyCredential,
  jwtCredential,
  loadDocument,
  operationsOf,
  scopeSetsLacking,
  send,
  type Answer,
  type Credential,
  type Operation,
} from "../support/openapi";

const A = "iso-org-a";
const B = "iso-org-b";

/** Operations that take no credentials, and what authenticates them instead. A new one must be added here on purpose. */
const PUBLIC_BY_DESIGN: Record<string, string> = {
  resumeExecutionWithToken: "the single-use resume token",
  receiveWebhook: "the webhook trigger's signature (or allow_unsigned)",
  arrotechListTemplates: "nothing: the workflow template catalog is static and the same for everyone",
  arrotechListTemplateCategories: "nothing: the workflow template catalog is static and the same for everyone",
  arrotechGetTemplate: "nothing: the workflow template catalog is static and the same for everyone",
  arrotechAgentSlackEvents: "Slack's request signature (the org's Slack signing secret) and a fresh timestamp",
};

/** `it`, or `it.fails` for a check listed in KNOWN_DEFECTS (reported to the file's owner). */
const usedDefects = new Set<string>();
const check = (key: string) => {
  if (!(key in KNOWN_DEFECTS)) return it;
  usedDefects.add(key);
  return it.fails;
};

/** The common error body's code, or (Plura's envelope, whose `error` is the message) `metadata.code`. */
const errorCode = (res: Answer) => {
  const body = res.json as { error?: { code?: string } | string; metadata?: { code?: string } } | undefined;
  return typeof body?.error === "object" ? body.error.code : body?.metadata?.code;
};
const brief = (res: Answer) => `${res.status} ${res.text.slice(0, 200)}`;

/** API keys are created once per (org, scopes): an org may hold at most LIMITS.MAX_API_KEYS_PER_ORG of them. */
const keys = new Map<string, Promise<Credential>>();
function apiKey(org: string, scopes: Scope[]): Promise<Credential> {
  const k = `${org}|${scopes.join(" ")}`;
  if (!keys.has(k)) keys.set(k, apiKeyCredential(org, scopes));
  return keys.get(k)!;
}

/** Org A's rows only (other orgs may legitimately change: org B creating its own flow is fine). */
/**
 * Org A's rows. The event inbox is left out: its rows go `queued` → `done` whenever the events queue
 * consumer gets to org A's earlier fixture events, in the background and at a moment no request chooses,
 * so comparing it would measure the queue's timing, not org B's request.
 */
function rowsOf(snap: Snapshot, org: string): Snapshot {
  return Object.fromEntries(
    Object.entries(snap)
      .filter(([t]) => t !== "event_inbox")
      .map(([t, rows]) => [t, rows.filter((r) => r.includes(`"${org}"`))]),
  );
}

async function request(op: Operation, f: Fixtures, doc: Awaited<ReturnType<typeof loadDocument>>) {
  const params = await pathValues(op, f);
  const body = await bodyValue(op, f, doc);
  return { params, body };
}

describe("tenant isolation matrix", async () => {
  const doc = await loadDocument();
  const ops = operationsOf(doc);
  /** An org A with one of everything, whose ids must never appear in org B's answers. */
  const populated = new Fixtures(A);
  let orgB: Credential[] = [];

  // The matrix checks scopes and tenancy, not rate limits (test/security/rate-limits.test.ts does): its calls,
  // over 1,200 a minute in one organization on a quiet machine, would exhaust RL_API_ORG. The limiters are
  // bindings shared with the Worker under test, so their limit() is lifted for this file only.
  const limiters = ["RL_API_KEY", "RL_API_ORG", "RL_TRIGGER_KEY", "RL_TRIGGER_ORG"] as const;
  const originalLimit = new Map<string, RateLimit["limit"]>();
  beforeAll(() => {
    for (const name of limiters) {
      const binding = env[name];
      if (!binding) continue;
      originalLimit.set(name, binding.limit);
      binding.limit = async () => ({ success: true });
    }
  });
  afterAll(() => {
    for (const name of limiters) {
      const original = originalLimit.get(name);
      if (original && env[name]) env[name]!.limit = original;
    }
  });

  beforeAll(async () => {
    for (const make of [
      populated.quickFlow,
      populated.execution,
      populated.run,
      populated.record,
      populated.apiKey,
      populated.connection,
      populated.notification,
      populated.bulkJob,
    ])
      await make();
    orgB = [adminCredential(B), await apiKey(B, ["admin"]), await jwtCredential(B, ["admin"], "org-b-user")];
  });

  it("every operation without credentials is public by design", () => {
    const unexpected = ops
      .filter((op) => op.isPublic && !(op.id in PUBLIC_BY_DESIGN))
      .map((op) => `${op.id} (${op.method} ${op.path})`);
    expect(
      unexpected,
      "unauthenticated operations: add them to PUBLIC_BY_DESIGN with what authenticates them, or give them a scope",
    ).toEqual([]);
  });

  it("every KNOWN_DEFECTS entry still names a check that runs (delete the entries of fixed defects)", () => {
    const fuzzed = new Set(ops.map((op) => `fuzz:${op.id}`));
    const stale = Object.keys(KNOWN_DEFECTS).filter((k) => (k.startsWith("fuzz:") ? !fuzzed.has(k) : !usedDefects.has(k)));
    expect(stale).toEqual([]);
  });

  for (const op of ops.filter((o) => !o.isPublic && o.scope)) {
    const scope = op.scope!;
    const idParams = op.pathParams.filter((p) => !isNamespaceParam(op, p.name));

    describe(`${op.id} (${op.method} ${op.path}, ${scope}${op.superuserOnly ? ", superuser only" : ""})`, () => {
      it(`refuses every API key and JWT lacking ${scope} with 403, and no credential with 401, changing nothing`, async () => {
        const { params, body } = await request(op, new Fixtures(A), doc);
        const creds: Credential[] = [];
        for (const scopes of scopeSetsLacking(scope)) {
          creds.push(await jwtCredential(A, scopes));
          if (scopes.length > 0) creds.push(await apiKey(A, scopes)); // an API key needs at least one scope
        }
        const before = await dbSnapshot();
        const wrong: string[] = [];
        for (const credential of creds) {
          const res = await send(op, { params, json: body, credential });
          if (res.status !== 403 || errorCode(res) !== "FORBIDDEN") wrong.push(`${credential.label}: ${brief(res)}`);
        }
        const anonymous = await send(op, { params, json: body, credential: NO_CREDENTIAL });
        if (anonymous.status !== 401) wrong.push(`no credential: ${brief(anonymous)}`);
        expect(wrong).toEqual([]);
        expect(rowsOf(await dbSnapshot(), A)).toEqual(rowsOf(before, A));
      });

      if (op.superuserOnly) {
        it("refuses the organization's admins (API key and JWT holding admin) with 403 and lets the superuser through", async () => {
          const { params, body } = await request(op, new Fixtures(A), doc);
          for (const credential of [await apiKey(A, ["admin"]), await jwtCredential(A, ["admin"])]) {
            const res = await send(op, { params, json: body, credential });
            expect(res.status, `${credential.label}: ${brief(res)}`).toBe(403);
          }
          const res = await send(op, { params, json: body, credential: adminCredential(A) });
          expect([401, 403], `superuser: ${brief(res)}`).not.toContain(res.status);
        });
      } else {
        check(`through:${op.id}`)(
          `lets an API key and a JWT holding exactly ${scope} through (neither 401 nor 403)`,
          async () => {
            const { params, body } = await request(op, new Fixtures(A), doc);
            for (const credential of [await apiKey(A, [scope]), await jwtCredential(A, [scope])]) {
              const res = await send(op, { params, json: body, credential });
              expect(
                [401, 403],
                `${credential.label}: ${brief(res)} (if only the superuser may call it, declare it with superuserRoute() from src/api/router.ts)`,
              ).not.toContain(res.status);
            }
          },
        );
      }

      if (idParams.length > 0 && !op.superuserOnly) {
        check(`tenancy:${op.id}`)(
          `answers another organization's credentials on this organization's {${idParams.map((p) => p.name).join(", ")}} with 404, as for unknown ids, and changes nothing`,
          async () => {
            const f = new Fixtures(A);
            const { params, body } = await request(op, f, doc);
            const unknown = { ...params, ...Object.fromEntries(idParams.map((p) => [p.name, crypto.randomUUID()])) };
            const baseline = await send(op, { params: unknown, json: body, credential: adminCredential(A) });
            expect(
              baseline.status,
              `${op.id} with unknown ids and a valid body should reach its handler and answer 404; got ${brief(baseline)}. ` +
                "If the body was refused, add an entry to BODY_FIXTURES in test/support/openapi.ts",
            ).toBe(404);
            const before = await dbSnapshot();
            for (const credential of orgB) {
              const res = await send(op, { params, json: body, credential });
              expect(res.status, `${credential.label}: ${brief(res)}`).toBe(404);
              expect(errorCode(res), `${credential.label} must get the same error as for an unknown id`).toBe(
                errorCode(baseline),
              );
              for (const id of f.ids) expect(res.text, `${credential.label} sees org A's id`).not.toContain(id);
            }
            expect(rowsOf(await dbSnapshot(), A)).toEqual(rowsOf(before, A));
          },
        );
      } else if (idParams.length > 0) {
        it("refuses another organization's API keys and JWTs (the superuser spans organizations by design)", async () => {
          const { params, body } = await request(op, new Fixtures(A), doc);
          for (const credential of orgB.slice(1)) {
            const res = await send(op, { params, json: body, credential });
            expect(res.status, `${credential.label}: ${brief(res)}`).toBe(403);
          }
        });
      } else if (!op.superuserOnly) {
        const expected = BODY_ID_OPERATIONS[op.id];
        check(`tenancy:${op.id}`)(
          typeof expected === "number"
            ? `answers another organization sending this organization's ids in the body with ${expected}`
            : "never shows this organization's data to another organization, and leaves its rows unchanged",
          async () => {
            const { params, body } = await request(op, populated, doc);
            const before = await dbSnapshot();
            for (const credential of orgB) {
              const res = await send(op, { params, json: body, credential });
              expect(res.status, `${credential.label}: ${brief(res)}`).toBeLessThan(500);
              if (typeof expected === "number") expect(res.status, `${credential.label}: ${brief(res)}`).toBe(expected);
              for (const id of populated.ids) expect(res.text, `${credential.label} sees org A's id ${id}`).not.toContain(id);
            }
            expect(rowsOf(await dbSnapshot(), A)).toEqual(rowsOf(before, A));
          },
        );
      }
    });
  }
});
