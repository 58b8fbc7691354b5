import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import type { RecordInput } from "../log/types.ts";
import {
  fixCrc,
  INTERESTING_VALUES,
  MUTABLE_FIELDS,
  mutateBatch,
  type Mutation,
} from "./_test_mutation.ts";
import { validateBatch } from "./batch_validation.ts";
import { compress } from "./compression.ts";
import { decodeBatch, encodeBatch } from "./record_batch.ts";

const text = (s: string) => new TextEncoder().encode(s);

function records(count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: text(`k${i}`),
    value: text(`value ${i}`),
    headers: [{ key: "h", value: text(String(i)) }],
    timestamp: 1000 + i,
  }));
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof EdgelogError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("validateBatch accepts what encodeBatch writes, plain and gzip", async () => {
  for (const compression of ["none", "gzip"] as const) {
    const batch = await encodeBatch(records(5), { compression });
    assert.equal((await validateBatch(batch)).recordCount, 5);
  }
});

Deno.test("a batch of no records or a negative count is CORRUPT_BATCH (finding 1)", async () => {
  const batch = await encodeBatch(records(1));
  for (const count of [0, -5]) {
    const bad = mutateBatch(
      mutateBatch(batch, { kind: "field", field: "recordCount", value: count }),
      { kind: "field", field: "lastOffsetDelta", value: count - 1 },
    );
    await rejectsWith(validateBatch(bad), "CORRUPT_BATCH", /at least 1/);
  }
});

Deno.test("a count the record section does not hold is CORRUPT_BATCH (finding 2)", async () => {
  const batch = await encodeBatch(records(1));
  const liar = mutateBatch(
    mutateBatch(batch, {
      kind: "field",
      field: "recordCount",
      value: 0x7fffffff,
    }),
    { kind: "field", field: "lastOffsetDelta", value: 0x7ffffffe },
  );
  await rejectsWith(validateBatch(liar), "CORRUPT_BATCH", /2147483647/);
  const two = await encodeBatch(records(2));
  const short = mutateBatch(
    mutateBatch(two, { kind: "field", field: "recordCount", value: 3 }),
    { kind: "field", field: "lastOffsetDelta", value: 2 },
  );
  await rejectsWith(validateBatch(short), "CORRUPT_BATCH", /ends early|claims/);
  const long = mutateBatch(
    mutateBatch(two, { kind: "field", field: "recordCount", value: 1 }),
    { kind: "field", field: "lastOffsetDelta", value: 0 },
  );
  await rejectsWith(
    validateBatch(long),
    "CORRUPT_BATCH",
    /after its 1 records/,
  );
});

Deno.test("offsets that do not span the count and bad timestamps are CORRUPT_BATCH", async () => {
  const batch = await encodeBatch(records(3));
  await rejectsWith(
    validateBatch(
      mutateBatch(batch, { kind: "field", field: "lastOffsetDelta", value: 7 }),
    ),
    "CORRUPT_BATCH",
    /spans 8 offsets/,
  );
  await rejectsWith(
    validateBatch(
      mutateBatch(batch, { kind: "field", field: "maxTimestamp", value: 5 }),
    ),
    "CORRUPT_BATCH",
    /impossible timestamps/,
  );
  await rejectsWith(
    validateBatch(
      mutateBatch(batch, { kind: "field", field: "maxTimestamp", value: 1001 }),
    ),
    "CORRUPT_BATCH",
    /timestamp 1002 outside/,
  );
  await rejectsWith(
    validateBatch(
      mutateBatch(batch, { kind: "field", field: "baseTimestamp", value: -7 }),
    ),
    "CORRUPT_BATCH",
    /impossible timestamps/,
  );
});

Deno.test("a record whose offset delta is not its index is CORRUPT_BATCH", async () => {
  const batch = await encodeBatch([{ value: null, timestamp: 1 }, {
    value: null,
    timestamp: 1,
  }]);
  // Record 1 starts at 61 + 7; its offsetDelta varint is its fourth byte.
  const bad = batch.slice();
  assert.equal(bad[61 + 7 + 3], 2);
  bad[61 + 7 + 3] = 4;
  fixCrc(bad);
  await rejectsWith(validateBatch(bad), "CORRUPT_BATCH", /offset delta 2/);
});

Deno.test("a gzip batch is checked after decompression, under the cap", async () => {
  const plain = await encodeBatch(records(2));
  const section = plain.subarray(61);
  const packed = await compress("gzip", section);
  const gz = new Uint8Array(61 + packed.length);
  gz.set(plain.subarray(0, 61));
  gz.set(packed, 61);
  const view = new DataView(gz.buffer);
  view.setInt32(8, gz.length - 12);
  view.setInt16(21, 1);
  view.setInt32(57, 9);
  view.setInt32(23, 8);
  fixCrc(gz);
  await rejectsWith(validateBatch(gz), "CORRUPT_BATCH", /counts 9 records/);
  const honest = await encodeBatch(records(200), { compression: "gzip" });
  await rejectsWith(
    validateBatch(honest, { maxDecompressedBytes: 1000 }),
    "PAYLOAD_TOO_LARGE",
    /more than 1000 bytes/,
  );
});

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("field" as const),
    field: fc.constantFrom(...MUTABLE_FIELDS),
    value: fc.constantFrom(...INTERESTING_VALUES),
  }),
  fc.record({
    kind: fc.constant("fieldDelta" as const),
    field: fc.constantFrom(...MUTABLE_FIELDS),
    delta: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("byte" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("resize" as const),
    bytes: fc.integer({ min: -20, max: 20 }),
    fixLength: fc.boolean(),
  }),
);

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 4 }),
      value: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: null }),
    }),
    { maxLength: 2 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
});

Deno.test("property: a batch the validator accepts reads back whole", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(recordArb, { minLength: 1, maxLength: 5 }),
      fc.constantFrom("none" as const, "gzip" as const),
      fc.array(mutationArb, { maxLength: 3 }),
      async (input, compression, mutations) => {
        let batch = await encodeBatch(input, { compression, baseOffset: 40 });
        for (const mutation of mutations) batch = mutateBatch(batch, mutation);
        let header;
        try {
          header = await validateBatch(batch);
        } catch (err) {
          assert.ok(err instanceof EdgelogError, String(err));
          return;
        }
        const decoded = await decodeBatch(batch);
        assert.equal(decoded.records.length, header.recordCount);
        decoded.records.forEach((record, i) => {
          assert.equal(record.offset, header.baseOffset + i);
          assert.ok(record.timestamp <= header.maxTimestamp);
        });
      },
    ),
    { numRuns: 400, seed: 9 },
  );
});
