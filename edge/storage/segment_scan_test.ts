import assert from "node:assert/strict";
import { concatBytes } from "../../runtime/format/bytes.ts";
import { encodeBatch } from "../../runtime/format/record_batch.ts";
import { scanSegment } from "./segment_scan.ts";

function batch(baseOffset: number, count = 2): Promise<Uint8Array> {
  return encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      value: new TextEncoder().encode(`v${baseOffset + i}`),
      timestamp: 10 + i,
    })),
    { baseOffset },
  );
}

Deno.test("a clean segment scans whole, with no damage", async () => {
  const parts = [await batch(5), await batch(7), await batch(9)];
  const scan = scanSegment(concatBytes(parts), 5);
  assert.deepEqual(scan.headers.map((h) => h.baseOffset), [5, 7, 9]);
  const [x, y, z] = parts.map((p) => p.length) as [number, number, number];
  assert.deepEqual(scan.positions, [0, x, x + y]);
  assert.deepEqual(scan.damaged, []);
  assert.equal(scan.validBytes, x + y + z);
  assert.deepEqual(scanSegment(new Uint8Array(0), 0).validBytes, 0);
});

Deno.test("a bad tail with nothing good after it is a torn tail, not damage", async () => {
  const a = await batch(0);
  const b = await batch(2);
  for (const tail of [b.subarray(0, 30), new Uint8Array(500), b.slice()]) {
    if (tail.length === b.length) tail[tail.length - 1]! ^= 1;
    const scan = scanSegment(concatBytes([a, tail]), 0);
    assert.equal(scan.validBytes, a.length);
    assert.deepEqual(scan.damaged, []);
  }
});

Deno.test("damage followed by a good batch is a damaged range, skipped", async () => {
  const [a, b, c, d] = [
    await batch(0),
    await batch(2),
    await batch(4),
    await batch(6),
  ];
  const bad = b!.slice();
  bad[40]! ^= 0xff;
  const scan = scanSegment(concatBytes([a!, bad, c!, d!]), 0);
  assert.deepEqual(scan.headers.map((h) => h.baseOffset), [0, 4, 6]);
  assert.deepEqual(scan.damaged, [{
    start: a!.length,
    end: 2 * a!.length,
    fromOffset: 2,
    toOffset: 3,
  }]);
  assert.equal(scan.validBytes, 4 * a!.length);
});

Deno.test("a batch that checks out but breaks the offset order is damage too", async () => {
  const a = await batch(0);
  const early = await batch(0);
  const c = await batch(2);
  const scan = scanSegment(concatBytes([a, early, c]), 0);
  assert.deepEqual(scan.headers.map((h) => h.baseOffset), [0, 2]);
  assert.deepEqual(scan.damaged, [{
    start: a.length,
    end: 2 * a.length,
    fromOffset: 2,
    toOffset: 1,
  }]);
});
