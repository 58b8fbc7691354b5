import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { Rates } from "./rates.ts";

Deno.test("rates: a topic's mean over the last complete seconds", () => {
  const clock = new ManualClock(100_000);
  const rates = new Rates({ clock, windowSeconds: 60 });
  rates.add("in", "a", 10);
  rates.add("out", "a", 4);
  clock.advance(1000);
  rates.add("in", "a", 30);
  rates.add("in", "b", 5);
  assert.deepEqual(rates.topics(2), [
    { topic: "a", inPerSec: 5, outPerSec: 2 },
    { topic: "b", inPerSec: 0, outPerSec: 0 },
  ]);
  clock.advance(1000);
  assert.deepEqual(rates.topics(2), [
    { topic: "a", inPerSec: 20, outPerSec: 2 },
    { topic: "b", inPerSec: 2.5, outPerSec: 0 },
  ]);
});

Deno.test("rates: a slot of a second past the window counts as zero", () => {
  const clock = new ManualClock(0);
  const rates = new Rates({ clock, windowSeconds: 10 });
  rates.add("in", "a", 7);
  clock.advance(10_000);
  rates.add("in", "a", 1);
  clock.advance(1000);
  const series = rates.series();
  assert.equal(series.t.length, 9);
  assert.deepEqual(series.in.slice(-1), [1]);
  assert.equal(series.in.reduce((x, y) => x + y, 0), 1);
});

Deno.test("rates: the series sums topics per second, oldest first", () => {
  const clock = new ManualClock(50_000);
  const rates = new Rates({ clock, windowSeconds: 5 });
  rates.add("in", "a", 1);
  rates.add("in", "b", 2);
  rates.add("out", "b", 3);
  clock.advance(1000);
  assert.deepEqual(rates.series(), {
    t: [47_000, 48_000, 49_000, 50_000],
    in: [0, 0, 0, 3],
    out: [0, 0, 0, 3],
  });
});
