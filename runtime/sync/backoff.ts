/**
 * Retry delays for replication: exponential, capped, with full jitter so
 * that many devices coming back online at once do not retry in step.
 *
 * @module
 */

/** How retry delays grow. */
export interface BackoffOptions {
  /** Delay scale of the first retry; default 200 ms. */
  baseMs?: number;
  /** Largest delay; default 30 s. */
  maxMs?: number;
  /** Uniform [0, 1); injected so tests are deterministic. */
  random: () => number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): uniform
 * in [cap / 2, cap], cap = min(maxMs, baseMs * 2^attempt).
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * const ms = backoffDelay(3, { baseMs: 100, maxMs: 1000, random: () => 0.5 });
 * console.assert(ms === 600);
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 30_000;
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + options.random() * cap / 2);
}
