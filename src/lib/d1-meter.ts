/**
 * A measuring aid for benchmarks, off unless the `D1_METER` var is "1": wraps the D1 binding so that
 * every statement and batch that wrote rows logs `d1-meter rows_written=<n>` (D1's own `meta.rows_written`,
 * which counts index writes as D1 bills them). bench/bulk.mjs sums the lines to report rows per record.
 */
export function withD1Meter<E extends { DB: D1Database; D1_METER?: string }>(env: E): E {
  if (env.D1_METER !== "1") return env;
  return { ...env, DB: meter(env.DB) };
}

const log = (rows: number | undefined) => {
  if (rows) console.log(`d1-meter rows_written=${rows}`);
};

/** The real statement behind each metered one (batch() accepts only real statements). */
const realOf = new WeakMap<D1PreparedStatement, D1PreparedStatement>();

function meterStatement(stmt: D1PreparedStatement): D1PreparedStatement {
  const metered = new Proxy(stmt, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => meterStatement(target.bind(...values));
      if (prop === "run" || prop === "all") {
        return async () => {
          const result = await target[prop]();
          log(result.meta.rows_written);
          return result;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  realOf.set(metered, stmt);
  return metered;
}

function meter(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => meterStatement(target.prepare(sql));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const real = statements.map((s) => realOf.get(s) ?? s);
          const results = await target.batch(real);
          log(results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0));
          return results;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
