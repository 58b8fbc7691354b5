import assert from "node:assert/strict";
import { isSilent, selectRows, type StreamRow } from "./fleet.ts";

const row = (
  nodeId: string,
  lastSeenMs: number,
  lagRecords?: number,
): StreamRow => ({
  nodeId,
  topic: "t",
  sourcePartition: 0,
  producerId: nodeId.charCodeAt(0),
  partition: 0,
  ackedOffset: 0,
  lastSeenMs,
  droppedRecords: 0,
  ...(lagRecords === undefined ? {} : { lagRecords }),
});

Deno.test("fleet: silent past the threshold, filters and sort", () => {
  const now = 100_000;
  const rows = [
    row("a", now - 61_000, 5),
    row("b", now - 1000, 0),
    row("c", now - 60_000),
  ];
  assert.equal(isSilent(rows[0]!, now, 60_000), true);
  assert.equal(isSilent(rows[2]!, now, 60_000), false);
  const q = {
    text: "",
    silentOnly: false,
    laggingOnly: false,
    sort: "lastSeenMs" as const,
    descending: false,
  };
  assert.deepEqual(selectRows(rows, q, now, 60_000).map((r) => r.nodeId), [
    "a",
    "c",
    "b",
  ]);
  assert.deepEqual(
    selectRows(rows, { ...q, silentOnly: true }, now, 60_000).map((r) =>
      r.nodeId
    ),
    ["a"],
  );
  assert.deepEqual(
    selectRows(rows, { ...q, laggingOnly: true }, now, 60_000).map((r) =>
      r.nodeId
    ),
    ["a"],
  );
  assert.deepEqual(
    selectRows(
      rows,
      { ...q, sort: "lagRecords", descending: true },
      now,
      60_000,
    ).map((r) => r.nodeId),
    ["a", "b", "c"],
  );
  assert.deepEqual(
    selectRows(rows, { ...q, text: "B" }, now, 60_000).map((r) => r.nodeId),
    ["b"],
  );
});
