import assert from "node:assert/strict";
import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatRate,
  formatRetention,
} from "./format.ts";

Deno.test("format: sizes, rates, durations and retention", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(null), "unknown");
  assert.equal(formatRate(0.256), "0.26");
  assert.equal(formatRate(1204.4), "1,204");
  assert.equal(formatDuration(200_000), "3 min 20 s");
  assert.equal(formatDuration(3 * 86400_000 + 60_000), "3 d");
  assert.equal(formatDuration(500), "0 s");
  assert.equal(formatAgo(1000, 1500), "just now");
  assert.equal(formatAgo(0, 65_000), "1 min 5 s ago");
  assert.equal(formatRetention(-1, -1), "forever");
  assert.equal(formatRetention(86_400_000, 1024), "1 d, 1.0 KiB");
});
