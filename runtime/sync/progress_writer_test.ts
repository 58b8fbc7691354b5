import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { MemoryStorage } from "../log/memory_storage.ts";
import { progressKey, ProgressWriter } from "./progress_writer.ts";

function setup() {
  const meta = new MemoryStorage().meta;
  const writes: unknown[] = [];
  const set = meta.set.bind(meta);
  meta.set = (key, value) => {
    writes.push(value);
    return set(key, value);
  };
  const clock = new ManualClock();
  const progress = { ackedOffset: -1, droppedRecords: 0 };
  const writer = new ProgressWriter(meta, {
    key: progressKey("t", 2),
    current: () => ({ ...progress }),
    clock,
    intervalMs: 1000,
  });
  return { meta, writes, clock, progress, writer };
}

Deno.test("ProgressWriter writes at once, then coalesces changes within the interval", async () => {
  const { meta, writes, clock, progress, writer } = setup();
  progress.ackedOffset = 4;
  writer.changed();
  await writer.flush();
  assert.deepEqual(writes, [{ ackedOffset: 4, droppedRecords: 0 }]);
  progress.ackedOffset = 5;
  writer.changed();
  progress.ackedOffset = 6;
  writer.changed();
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(writes.length, 1);
  clock.advance(1000);
  await writer.flush();
  assert.deepEqual(writes.at(-1), { ackedOffset: 6, droppedRecords: 0 });
  assert.equal(writes.length, 2);
  assert.deepEqual(await meta.get("sync/acked/t/2"), {
    ackedOffset: 6,
    droppedRecords: 0,
  });
});

Deno.test("ProgressWriter.flush cuts the wait short", async () => {
  const { writes, progress, writer } = setup();
  writer.changed();
  await writer.flush();
  progress.droppedRecords = 3;
  writer.changed();
  await writer.flush();
  assert.deepEqual(writes, [
    { ackedOffset: -1, droppedRecords: 0 },
    { ackedOffset: -1, droppedRecords: 3 },
  ]);
});
