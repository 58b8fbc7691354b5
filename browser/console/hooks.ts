/**
 * Auto-refresh: a view's data loaded at once, again every few seconds, and
 * again when the token changes (which also clears a stale error).
 *
 * @module
 */

import { useEffect, useState } from "preact/hooks";
import { token } from "./state.ts";

/** How often views refresh by default. */
export const REFRESH_MS = 3000;

/** What {@linkcode useResource} gives a view. */
export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  /** Loads again now. */
  reload(): void;
}

/**
 * Loads with `load` now, every `everyMs` (0: once) and whenever `deps` or
 * the token change. A failed refresh keeps the last data beside the error.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  everyMs = REFRESH_MS,
): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown }>({});
  const [tick, setTick] = useState(0);
  const currentToken = token.value;
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abort = new AbortController();
    const run = async () => {
      try {
        const data = await load(abort.signal);
        if (alive) setState({ data });
      } catch (error) {
        if (!alive || (error as Error).name === "AbortError") return;
        setState((s) => ({ ...s, error }));
      }
      if (alive && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    run();
    return () => {
      alive = false;
      clearTimeout(timer);
      abort.abort();
    };
  }, [...deps, currentToken, tick]);
  useEffect(() => setState({}), [...deps, currentToken]);
  return {
    data: state.data,
    error: state.error,
    reload: () => setTick((n) => n + 1),
  };
}

/** The current time, updated every `everyMs`, for "5 s ago" labels. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
