import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import {
  chunkKey,
  chunkOf,
  ChunkWriter,
  decodeChunk,
  encodeChunk,
  type StreamRow,
} from "./stream_chunks.ts";

const row: StreamRow = {
  nodeId: "n",
  topic: "t",
  sourcePartition: 2,
  producerId: 300,
  producerEpoch: 1,
  partition: 0,
  ackedOffset: 41,
  lastSeenMs: 1000,
  droppedRecords: 3,
  lastCentralOffset: 9,
  snapshotOffset: 10,
  sourceHighWatermark: 50,
};

Deno.test("a chunk round-trips its streams; keys sort in chunk order", () => {
  const value = JSON.parse(JSON.stringify(encodeChunk([row])));
  assert.deepEqual(decodeChunk("k", value), [row]);
  assert.equal(chunkOf(255), 0);
  assert.equal(chunkOf(256), 1);
  assert.ok(chunkKey(9) < chunkKey(10));
});

Deno.test("a value that is not a chunk is an INTERNAL error", () => {
  for (const bad of [null, {}, { rows: [[1, "n"]] }, { rows: [["x"]] }]) {
    assert.throws(
      () => decodeChunk("k", bad),
      (err) => err instanceof EdgelogError && err.code === "INTERNAL",
    );
  }
});

Deno.test("requests made during a chunk's write share the next one, which starts after it", async () => {
  const started: number[] = [];
  const release: (() => void)[] = [];
  let state = 0;
  const writer = new ChunkWriter((chunk) => {
    started.push(state * 10 + chunk);
    return new Promise((r) => release.push(r));
  });
  state = 1;
  const first = writer.request(3);
  state = 2;
  const second = writer.request(3);
  const third = writer.request(3);
  const other = writer.request(4);
  assert.equal(second, third, "one shared next write");
  assert.deepEqual(started, [13, 24]);
  release[0]!();
  await first;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [13, 24, 23], "the next write took the new state");
  release[1]!();
  release[2]!();
  await Promise.all([second, other]);
});
