import assert from "node:assert/strict";
import {
  describeFsync,
  EDGELOG_VERSION,
  freeBytes,
  syncCounts,
} from "./node_info.ts";

const SILENT_AFTER_MS = 60_000;

Deno.test("syncCounts: a device is silent when none of its streams was seen within the threshold", () => {
  const now = 10_000_000;
  const stream = (
    nodeId: string,
    lastSeenMs: number,
    lagRecords: number | null = null,
  ) => ({
    nodeId,
    topic: "t",
    sourcePartition: 0,
    producerId: 1,
    producerEpoch: 0,
    partition: 0,
    ackedOffset: 0,
    lastSeenMs,
    droppedRecords: 0,
    lagRecords,
  });
  assert.deepEqual(
    syncCounts(
      [
        stream("a", now - SILENT_AFTER_MS - 1, 0),
        stream("a", now - 10, 3),
        stream("b", now - SILENT_AFTER_MS - 1),
        stream("c", now - SILENT_AFTER_MS),
      ],
      now,
      SILENT_AFTER_MS,
    ),
    {
      streams: 4,
      devices: 3,
      silentDevices: 1,
      laggingDevices: 1,
      silentAfterMs: SILENT_AFTER_MS,
    },
  );
});

Deno.test("node info: version from deno.json, fsync in words, free bytes or null", async () => {
  assert.match(EDGELOG_VERSION, /^\d+\.\d+\.\d+/);
  assert.equal(describeFsync({ intervalMs: 50 }), "every 50 ms");
  assert.equal(describeFsync("never"), "never");
  const free = await freeBytes(Deno.cwd());
  assert.equal(typeof free === "number" && free > 0, true);
  assert.equal(await freeBytes("/no/such/dir/edgelog"), null);
});
