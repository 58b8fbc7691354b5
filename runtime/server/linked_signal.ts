/**
 * An AbortSignal that follows several others until disposed. Unlike
 * `AbortSignal.any`, it lets go of the request's signal once a wait is over,
 * so a server that aborts request signals after a response (Deno does) finds
 * no listener left behind.
 *
 * @module
 */

/** A signal aborted when any source aborts, until `dispose()`. */
export interface LinkedSignal {
  signal: AbortSignal;
  dispose(): void;
}

/** Links `sources` into one signal; call `dispose()` when done waiting. */
export function linkSignals(sources: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  for (const source of sources) {
    if (source.aborted) controller.abort();
    else source.addEventListener("abort", onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const source of sources) {
        source.removeEventListener("abort", onAbort);
      }
    },
  };
}
