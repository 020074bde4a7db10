import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Resource<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes, and again after `poll(data)` milliseconds while it returns a number (runs in
 * progress refresh by themselves; a hidden tab does not poll). A stale answer (the key changed meanwhile) is dropped.
 */
export function useResource<T>(key: string, load: () => Promise<T>, poll?: (data: T) => number | null): Resource<T> {
  const [state, setState] = useState<{ key: string; data: T | null; error: unknown; loading: boolean }>({
    key,
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef({ load, poll });
  latest.current = { load, poll };

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => (s.key === key ? { ...s, loading: true } : { key, data: null, error: null, loading: true }));
    latest.current
      .load()
      .then((data) => {
        if (!live) return;
        setState({ key, data, error: null, loading: false });
        const wait = latest.current.poll?.(data);
        if (typeof wait === "number") timer = setTimeout(() => live && setTick((t) => t + 1), document.hidden ? wait * 5 : wait);
      })
      .catch((error: unknown) => {
        if (live) setState((s) => ({ key, data: s.key === key ? s.data : null, error, loading: false }));
      });
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.key === key;
  return { data: current ? state.data : null, error: current ? state.error : null, loading: !current || state.loading, reload };
}

/** Sets the document title (each page has its own, for screen readers and browser history). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Automation console`;
  }, [title]);
}
