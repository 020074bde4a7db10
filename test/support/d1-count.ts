/** Wraps a D1 binding so every statement it executes (alone or in a batch) is counted. */
export function countingDb(db: D1Database, counter: { statements: number; batches: number }): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrapStmt = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "bind")
          return (...args: unknown[]) => wrapStmt((value as (...a: unknown[]) => D1PreparedStatement).apply(target, args));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => {
            counter.statements++;
            counter.batches++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") return (sql: string) => wrapStmt(target.prepare(sql));
      if (prop === "batch")
        return (stmts: D1PreparedStatement[]) => {
          counter.statements += stmts.length;
          counter.batches++;
          return target.batch(stmts.map((s) => real.get(s) ?? s));
        };
      return Reflect.get(target, prop, receiver);
    },
  });
}
