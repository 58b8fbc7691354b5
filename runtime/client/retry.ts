/**
 * Retrying requests with capped exponential backoff and full jitter, so
 * that many clients failing together do not come back in step. Time and
 * randomness are injected, so tests drive retries with a ManualClock.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { isRetriable } from "./errors.ts";

/** How often and how patiently to retry. */
export interface RetryOptions {
  /** Tries in all, the first included; default 3. 1 turns retries off. */
  attempts?: number;
  /** Delay scale of the first retry; default 100 ms. */
  baseMs?: number;
  /** Largest delay; default 5000 ms. */
  maxMs?: number;
}

/** Defaults for {@linkcode RetryOptions}. */
export const DEFAULT_RETRY: Required<RetryOptions> = {
  attempts: 3,
  baseMs: 100,
  maxMs: 5000,
};

/**
 * The delay before retry number `retry` (0 for the first): uniform in
 * [0, cap), cap = min(maxMs, baseMs * 2^retry).
 *
 * @example Usage
 * ```ts
 * import { retryDelay } from "./retry.ts";
 * const ms = retryDelay(2, { baseMs: 100, maxMs: 1000, random: () => 0.5 });
 * console.assert(ms === 200);
 * ```
 */
export function retryDelay(
  retry: number,
  options: { baseMs: number; maxMs: number; random: () => number },
): number {
  const cap = Math.min(
    options.maxMs,
    options.baseMs * 2 ** Math.min(retry, 30),
  );
  return Math.floor(options.random() * cap);
}

/** What {@linkcode withRetry} needs besides the policy. */
export interface WithRetryOptions extends RetryOptions {
  clock: Clock;
  random: () => number;
  /** Stops waiting between tries; the abort reason is thrown. */
  signal?: AbortSignal | undefined;
  /** Which errors to retry; default {@linkcode isRetriable}. */
  shouldRetry?: (error: unknown) => boolean;
}

/**
 * Runs `task` until it succeeds, throws an error that is not retriable, or
 * has used up its attempts; then the last error is thrown.
 *
 * @example Usage
 * ```ts
 * import { withRetry } from "./retry.ts";
 * import { systemClock } from "../clock.ts";
 * let calls = 0;
 * const result = await withRetry(async () => {
 *   if (++calls < 2) throw new Error("flaky");
 *   return "ok";
 * }, { clock: systemClock, random: () => 0, shouldRetry: () => true });
 * console.assert(result === "ok" && calls === 2);
 * ```
 */
export async function withRetry<T>(
  task: (attempt: number) => Promise<T>,
  options: WithRetryOptions,
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_RETRY.attempts);
  const policy = {
    baseMs: options.baseMs ?? DEFAULT_RETRY.baseMs,
    maxMs: options.maxMs ?? DEFAULT_RETRY.maxMs,
    random: options.random,
  };
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 0;; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (attempt + 1 >= attempts || !shouldRetry(error)) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      await options.clock.sleep(retryDelay(attempt, policy), options.signal);
    }
  }
}
