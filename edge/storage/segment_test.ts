import assert from "node:assert/strict";
import { makeBatch } from "../../test/fixtures/fs_batches.ts";
import { readBatchHeader } from "../../runtime/format/batch_header.ts";
import { parseSegmentFileName, Segment, segmentFileName } from "./segment.ts";

Deno.test("segment file names are 20-digit base offsets, so name order is offset order", () => {
  assert.equal(segmentFileName(0, "log"), "00000000000000000000.log");
  assert.equal(segmentFileName(1234, "index"), "00000000000000001234.index");
  assert.equal(
    segmentFileName(2 ** 53 - 1, "timeindex"),
    "00009007199254740991.timeindex",
  );
  assert.deepEqual(parseSegmentFileName("00000000000000001234.log"), {
    baseOffset: 1234,
    kind: "log",
  });
  assert.equal(parseSegmentFileName("1234.log"), undefined);
  assert.equal(parseSegmentFileName("00000000000000001234.log.tmp"), undefined);
  const names = [99, 100, 5, 1000].map((n) => segmentFileName(n, "log"));
  assert.deepEqual(
    names.toSorted().map((n) => parseSegmentFileName(n)!.baseOffset),
    [5, 99, 100, 1000],
  );
});

Deno.test("Segment: written batches are invisible until committed, and rollback removes them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const segment = await Segment.create(dir, 10, { indexIntervalBytes: 1 });
    const a = await makeBatch(10, 2);
    const b = await makeBatch(12, 3);
    await segment.write([a], [readBatchHeader(a)], 0);
    assert.equal(segment.nextOffset, 10, "not visible before commit");
    assert.deepEqual(await segment.readBatches(10, 1 << 20, [], 0), {
      used: 0,
      full: false,
    });
    segment.commit();
    await segment.write([b], [readBatchHeader(b)], 0);
    await segment.rollback();
    assert.equal(segment.writtenBytes, a.length);
    assert.equal(
      (await Deno.stat(`${dir}/${segmentFileName(10, "log")}`)).size,
      a.length,
    );
    await segment.write([b], [readBatchHeader(b)], 0);
    segment.commit();
    const out: Uint8Array[] = [];
    await segment.readBatches(13, 1 << 20, out, 0);
    assert.deepEqual(out, [b]);
    assert.equal(await segment.findByTimestamp(1000 + 12), 12);
    await segment.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Segment.recover cuts a batch that does not continue its predecessor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await makeBatch(0, 2);
    const skipped = await makeBatch(5, 1);
    await Deno.writeFile(
      `${dir}/${segmentFileName(0, "log")}`,
      new Uint8Array([...a, ...skipped]),
    );
    const { segment, truncatedBytes } = await Segment.recover(dir, 0, {
      indexIntervalBytes: 4096,
      now: 0,
    });
    assert.equal(truncatedBytes, skipped.length);
    assert.equal(segment.nextOffset, 2);
    assert.equal(segment.sizeBytes, a.length);
    await segment.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
