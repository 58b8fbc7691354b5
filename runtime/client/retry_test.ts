import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import { ManualClock } from "../clock.ts";
import { retryDelay, withRetry } from "./retry.ts";

Deno.test("retryDelay stays below the capped exponential", () => {
  fc.assert(
    fc.property(
      fc.nat(60),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (retry, r) => {
        const delay = retryDelay(retry, {
          baseMs: 100,
          maxMs: 5000,
          random: () => r,
        });
        assert.ok(delay >= 0 && delay < Math.min(5000, 100 * 2 ** retry));
      },
    ),
  );
});

Deno.test("withRetry waits on the injected clock between tries", async () => {
  const clock = new ManualClock();
  let calls = 0;
  const done = withRetry(() => {
    calls++;
    return calls < 3
      ? Promise.reject(new EdgelogError("UNAVAILABLE", "busy"))
      : Promise.resolve(calls);
  }, { clock, random: () => 0.99, baseMs: 100, maxMs: 150 });
  for (let i = 0; i < 10 && calls < 3; i++) {
    await Promise.resolve();
    clock.advance(150);
  }
  assert.equal(await done, 3);
});

Deno.test("withRetry does not retry errors that are not retriable", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(() => {
      calls++;
      return Promise.reject(new EdgelogError("TOPIC_NOT_FOUND", "no"));
    }, { clock: new ManualClock(), random: Math.random }),
    /no/,
  );
  assert.equal(calls, 1);
});
