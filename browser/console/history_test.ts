import assert from "node:assert/strict";
import { History } from "./history.ts";

Deno.test("History keeps the newest samples and gives a rate", () => {
  const h = new History(3);
  h.add("a", 0, 0);
  h.add("a", 1000, 10);
  h.add("a", 2000, 30);
  h.add("a", 2000, 40);
  h.add("a", 4000, 40);
  assert.deepEqual(h.get("a"), {
    times: [1000, 2000, 4000],
    values: [10, 40, 40],
  });
  assert.equal(h.ratePerSecond("a"), 10);
  assert.equal(h.ratePerSecond("none"), undefined);
});
