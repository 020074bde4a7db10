import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { withD1Meter } from "../../src/lib/d1-meter";

const base = env as unknown as Env;
afterEach(() => vi.restoreAllMocks());

/** The rows_written figures the meter logged while `fn` ran. */
async function logged(fn: () => Promise<unknown>): Promise<number[]> {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  await fn();
  vi.restoreAllMocks();
  return lines.flatMap((l) => /^d1-meter rows_written=(\d+)$/.exec(l)?.[1] ?? []).map(Number);
}

describe("the D1 meter (benchmarks only)", () => {
  it("is off unless D1_METER is 1: the binding is the real one", () => {
    expect(withD1Meter(base).DB).toBe(base.DB);
    expect(withD1Meter({ ...base, D1_METER: "0" }).DB).toBe(base.DB);
  });

  it("logs the rows each statement and batch wrote (D1's own count, index writes included), nothing for reads", async () => {
    const db = withD1Meter({ ...base, D1_METER: "1" }).DB;
    await base.DB.exec("CREATE TABLE IF NOT EXISTS meter_t (id TEXT PRIMARY KEY, v INTEGER)");
    await base.DB.exec("CREATE INDEX IF NOT EXISTS meter_t_v ON meter_t (v)");
    const single = await logged(() => db.prepare("INSERT INTO meter_t (id, v) VALUES (?, ?)").bind("a", 1).run());
    expect(single).toHaveLength(1);
    expect(single[0]).toBeGreaterThanOrEqual(1);
    const batch = await logged(() =>
      db.batch([
        db.prepare("INSERT INTO meter_t (id, v) VALUES (?, ?)").bind("b", 2),
        db.prepare("UPDATE meter_t SET v = v + 10"),
      ]),
    );
    expect(batch).toHaveLength(1); // one line per batch, its statements summed
    expect(batch[0]).toBeGreaterThanOrEqual(3);
    expect(await logged(() => db.prepare("SELECT * FROM meter_t").all())).toEqual([]);
    expect((await db.prepare("SELECT COUNT(*) AS n FROM meter_t").first<{ n: number }>())!.n).toBe(2);
  });
});
