import assert from "node:assert/strict";
import {
  type InFlight,
  openPushes,
  takeAnsweredPrefix,
  windowSettled,
} from "./in_flight_window.ts";

function push(
  lastOffset: number,
  state: "open" | "answered" | "failed",
): InFlight {
  return {
    lastOffset,
    dropped: 0,
    answer: state === "answered"
      ? { ackedOffset: lastOffset, partition: 0, lastOffset }
      : undefined,
    failed: state === "failed",
    settled: Promise.resolve(),
  };
}

Deno.test("takeAnsweredPrefix stops at the first push not answered", () => {
  const pushes = [
    push(1, "answered"),
    push(2, "answered"),
    push(3, "open"),
    push(4, "answered"),
  ];
  const taken = takeAnsweredPrefix(pushes);
  assert.deepEqual(taken.map((t) => t.entry.lastOffset), [1, 2]);
  assert.deepEqual(taken.map((t) => t.answer.ackedOffset), [1, 2]);
  assert.deepEqual(pushes.map((p) => p.lastOffset), [3, 4]);
  assert.deepEqual(takeAnsweredPrefix(pushes), []);
  assert.equal(pushes.length, 2);
});

Deno.test("takeAnsweredPrefix never passes a failed push", () => {
  const pushes = [push(1, "failed"), push(2, "answered")];
  assert.deepEqual(takeAnsweredPrefix(pushes), []);
  assert.equal(pushes.length, 2);
});

Deno.test("openPushes and windowSettled tell open pushes from settled ones", () => {
  const pushes = [push(1, "failed"), push(2, "open"), push(3, "answered")];
  assert.deepEqual(openPushes(pushes).map((p) => p.lastOffset), [2]);
  assert.equal(windowSettled(pushes), false);
  assert.equal(windowSettled([push(1, "failed"), push(3, "answered")]), true);
});
