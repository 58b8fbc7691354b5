import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoffDelay grows, is capped and jittered", () => {
  const at = (attempt: number, r: number) =>
    backoffDelay(attempt, { baseMs: 100, maxMs: 5000, random: () => r });
  assert.equal(at(0, 0), 50);
  assert.equal(at(0, 1), 100);
  assert.equal(at(3, 0), 400);
  assert.equal(at(3, 1), 800);
  assert.equal(at(20, 0.999999), 5000);
  assert.equal(at(1000, 0), 2500);
});
