import assert from "node:assert/strict";
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
} from "./segment_manifest.ts";

const manifest: Manifest = {
  closed: [
    { baseOffset: 0, nextOffset: 40, sizeBytes: 4096, maxTimestamp: 1039 },
    { baseOffset: 40, nextOffset: 90, sizeBytes: 5000, maxTimestamp: -1 },
    {
      baseOffset: 90,
      nextOffset: 2 ** 40,
      sizeBytes: 0x7fffffff,
      maxTimestamp: undefined,
    },
  ],
  activeBase: 2 ** 40,
};

Deno.test("a manifest decodes to what was encoded, unknown timestamps included", () => {
  assert.deepEqual(decodeManifest(encodeManifest(manifest)), manifest);
  const empty = { closed: [], activeBase: 500 };
  assert.deepEqual(decodeManifest(encodeManifest(empty)), empty);
});

Deno.test("a damaged manifest decodes to undefined", () => {
  const bytes = encodeManifest(manifest);
  for (let at = 0; at < bytes.length; at++) {
    const flipped = bytes.slice();
    flipped[at] = flipped[at]! ^ 0x01;
    assert.equal(decodeManifest(flipped), undefined, `flipped byte ${at}`);
  }
  for (const length of [0, 7, 19, bytes.length - 1]) {
    assert.equal(decodeManifest(bytes.subarray(0, length)), undefined);
  }
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.equal(decodeManifest(longer), undefined);
});

Deno.test("a manifest whose segments do not follow each other decodes to undefined", () => {
  const entry = (baseOffset: number, nextOffset: number) => ({
    baseOffset,
    nextOffset,
    sizeBytes: 100,
    maxTimestamp: 1,
  });
  const bad: Manifest[] = [
    { closed: [entry(0, 10), entry(11, 20)], activeBase: 20 },
    { closed: [entry(0, 10), entry(10, 20)], activeBase: 21 },
    { closed: [entry(10, 10)], activeBase: 10 },
    { closed: [entry(10, 5)], activeBase: 5 },
  ];
  for (const m of bad) {
    assert.equal(decodeManifest(encodeManifest(m)), undefined);
  }
});
