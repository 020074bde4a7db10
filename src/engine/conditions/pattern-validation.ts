import { LIMITS } from "../../lib/limits";
import { NUMERIC_OPS, parseCidr } from "./eventbridge";
import type { ValidationIssue } from "./types";

/** Grammar check of EventBridge-style patterns, so a bad filter is a 400 when the flow is saved, not a silent miss. */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export class PatternValidator {
  readonly issues: ValidationIssue[] = [];
  private nodes = 0;

  add(path: string, message: string): void {
    if (this.issues.length < 50) this.issues.push({ path, message });
  }

  private spend(path: string): boolean {
    this.nodes++;
    if (this.nodes === LIMITS.MAX_FILTER_CONFIG_NODES + 1) {
      this.add(path, `a filter may have at most ${LIMITS.MAX_FILTER_CONFIG_NODES} pattern nodes`);
    }
    return this.nodes <= LIMITS.MAX_FILTER_CONFIG_NODES;
  }

  /** `{ key: [patterns] | {nested} , $or: [objects] }`. */
  object(value: unknown, path: string, depth = 0): void {
    if (!isObject(value)) return this.add(path, "must be an object of field patterns");
    if (depth > LIMITS.MAX_EXPRESSION_DEPTH) return this.add(path, `nested deeper than ${LIMITS.MAX_EXPRESSION_DEPTH} levels`);
    for (const [key, sub] of Object.entries(value)) {
      const p = path ? `${path}.${key}` : key;
      if (!this.spend(p)) return;
      if (key === "$or") {
        if (!Array.isArray(sub) || sub.length === 0) {
          this.add(p, "$or must be a non-empty array of pattern objects");
          continue;
        }
        sub.forEach((branch, i) => this.object(branch, `${p}.${i}`, depth + 1));
      } else if (Array.isArray(sub)) {
        this.leafList(sub, p);
      } else if (isObject(sub)) {
        this.object(sub, p, depth + 1);
      } else {
        this.add(p, 'must be a list of patterns (e.g. ["value"]) or a nested object');
      }
    }
  }

  leafList(list: unknown[], path: string): void {
    if (list.length === 0) return this.add(path, "a pattern list must not be empty");
    list.forEach((p, i) => {
      if (this.spend(`${path}.${i}`)) this.leaf(p, `${path}.${i}`);
    });
  }

  private leaf(p: unknown, path: string): void {
    if (p === null || typeof p === "string" || typeof p === "boolean") return;
    if (typeof p === "number") {
      if (!Number.isFinite(p)) this.add(path, "numbers must be finite");
      return;
    }
    if (!isObject(p)) return this.add(path, "a pattern is a string, number, boolean, null or an operator object");
    const keys = Object.keys(p);
    if (keys.length !== 1) return this.add(path, `an operator object has exactly one key (got ${keys.length})`);
    const [op] = keys;
    const arg = p[op];
    const at = `${path}.${op}`;
    switch (op) {
      case "exists":
        if (typeof arg !== "boolean") this.add(at, "must be true or false");
        return;
      case "prefix":
      case "suffix":
        if (typeof arg === "string") return;
        if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg["equals-ignore-case"] === "string") return;
        return this.add(at, 'must be a string or { "equals-ignore-case": string }');
      case "equals-ignore-case":
        if (typeof arg !== "string") this.add(at, "must be a string");
        return;
      case "wildcard":
        return this.wildcard(arg, at);
      case "numeric":
        return this.numeric(arg, at);
      case "cidr":
        if (typeof arg !== "string" || !parseCidr(arg)) this.add(at, 'must be an IPv4 CIDR block such as "10.0.0.0/24"');
        return;
      case "anything-but":
        return this.anythingBut(arg, at);
      default:
        this.add(
          path,
          `unknown operator "${op}" (known: exists, prefix, suffix, equals-ignore-case, wildcard, numeric, cidr, anything-but)`,
        );
    }
  }

  private wildcard(arg: unknown, at: string): void {
    if (typeof arg !== "string") return this.add(at, "must be a string");
    for (let i = 0; i < arg.length; i++) {
      if (arg[i] === "\\") {
        if (i + 1 >= arg.length) return this.add(at, "ends with an unfinished escape '\\'");
        i++;
      } else if (arg[i] === "*" && arg[i + 1] === "*") {
        return this.add(at, "consecutive wildcard characters '**' are not allowed");
      }
    }
  }

  private numeric(arg: unknown, at: string): void {
    if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
      return this.add(at, 'must be [op, number] or [op, number, op, number], e.g. [">", 0, "<=", 5]');
    }
    let lower: number | null = null;
    let upper: number | null = null;
    for (let i = 0; i < arg.length; i += 2) {
      const op = arg[i];
      const raw = arg[i + 1];
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!(NUMERIC_OPS as readonly unknown[]).includes(op))
        return this.add(`${at}.${i}`, `operator must be one of ${NUMERIC_OPS.join(" ")}`);
      if (!Number.isFinite(n)) return this.add(`${at}.${i + 1}`, "must be a finite number");
      if (op === "=") {
        if (arg.length !== 2) return this.add(at, '"=" cannot be combined with another bound');
      } else if (op === ">" || op === ">=") {
        if (lower !== null) return this.add(at, "at most one lower bound (> or >=)");
        lower = n;
      } else {
        if (upper !== null) return this.add(at, "at most one upper bound (< or <=)");
        upper = n;
      }
    }
    if (lower !== null && upper !== null && lower >= upper) this.add(at, "the lower bound must be below the upper bound");
  }

  private anythingBut(arg: unknown, at: string): void {
    const scalar = (x: unknown) => typeof x === "string" || (typeof x === "number" && Number.isFinite(x));
    if (scalar(arg)) return;
    if (Array.isArray(arg)) {
      if (arg.length === 0) return this.add(at, "the list must not be empty");
      if (!arg.every((x) => typeof x === "string") && !arg.every((x) => typeof x === "number" && Number.isFinite(x))) {
        this.add(at, "a list must hold only strings or only numbers");
      }
      return;
    }
    if (!isObject(arg) || Object.keys(arg).length !== 1) {
      return this.add(
        at,
        "must be a string, a number, a list of them, or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}",
      );
    }
    const [op] = Object.keys(arg);
    const inner = arg[op];
    const strings =
      typeof inner === "string" || (Array.isArray(inner) && inner.length > 0 && inner.every((x) => typeof x === "string"));
    if (op === "prefix" || op === "suffix") {
      if (typeof inner !== "string") this.add(`${at}.${op}`, "must be a single string");
    } else if (op === "equals-ignore-case") {
      if (!strings) this.add(`${at}.${op}`, "must be a string or a list of strings");
    } else if (op === "wildcard") {
      if (!strings) return this.add(`${at}.${op}`, "must be a string or a list of strings");
      (Array.isArray(inner) ? inner : [inner]).forEach((w, i) =>
        this.wildcard(w, Array.isArray(inner) ? `${at}.${op}.${i}` : `${at}.${op}`),
      );
    } else {
      this.add(at, `unknown anything-but operator "${op}"`);
    }
  }
}
