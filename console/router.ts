import { useEffect, useState } from "preact/hooks";

/**
 * Hash routing (`#/flows`, `#/runs/<id>`): the Worker serves one static page at /console and never sees the
 * console's routes, so the server side stays a plain asset.
 */
export interface Route {
  /** Path segments after `#/`, decoded. */
  parts: string[];
  /** The query after `?` in the hash (filters live there, so a filtered list can be linked). */
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, q = ""] = raw.split("?", 2);
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts, params: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** A hash link to a console route. */
export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join("/")}`;

export function navigate(to: string): void {
  location.hash = to.startsWith("#") ? to : `#${to}`;
}
