import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { EdgelogError } from "../errors.ts";
import { CODEC_IDS, CODEC_MASK, compress, decompress } from "./compression.ts";

const sample = new TextEncoder().encode("temperature=21.5;".repeat(200));

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern: RegExp,
) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof EdgelogError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("codec ids are Kafka's", () => {
  assert.deepEqual(CODEC_IDS, { none: 0, gzip: 1 });
  assert.equal(CODEC_MASK, 7);
});

Deno.test("none passes bytes through unchanged", async () => {
  assert.equal(await compress("none", sample), sample);
  assert.equal(await decompress(0, sample), sample);
});

Deno.test("gzip round-trips and is real gzip that zlib reads", async () => {
  const packed = await compress("gzip", sample);
  assert.ok(packed.length < sample.length / 10);
  assert.deepEqual(packed.subarray(0, 2), new Uint8Array([0x1f, 0x8b]));
  assert.deepEqual(new Uint8Array(gunzipSync(packed)), sample);
  assert.deepEqual(await decompress(1, packed), sample);
  assert.deepEqual(await decompress(1, gzipSync(sample)), sample);
  const empty = await compress("gzip", new Uint8Array(0));
  assert.equal((await decompress(1, empty)).length, 0);
});

Deno.test("snappy, lz4, zstd and unknown codecs are UNSUPPORTED_COMPRESSION", async () => {
  await rejectsWith(decompress(2, sample), "UNSUPPORTED_COMPRESSION", /snappy/);
  await rejectsWith(decompress(3, sample), "UNSUPPORTED_COMPRESSION", /lz4/);
  await rejectsWith(decompress(4, sample), "UNSUPPORTED_COMPRESSION", /zstd/);
  for (const id of [5, 6, 7]) {
    await rejectsWith(
      decompress(id, sample),
      "UNSUPPORTED_COMPRESSION",
      new RegExp(`codec ${id}`),
    );
  }
});

Deno.test("bytes that are not gzip are CORRUPT_BATCH", async () => {
  await rejectsWith(decompress(1, sample), "CORRUPT_BATCH", /not valid gzip/);
  const packed = await compress("gzip", sample);
  await rejectsWith(
    decompress(1, packed.subarray(0, packed.length - 9)),
    "CORRUPT_BATCH",
    /not valid gzip/,
  );
  const flipped = packed.slice();
  flipped[20]! ^= 0xff;
  await rejectsWith(decompress(1, flipped), "CORRUPT_BATCH", /not valid gzip/);
});
