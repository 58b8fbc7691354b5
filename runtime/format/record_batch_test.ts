import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import type { LogRecord, RecordInput } from "../log/types.ts";
import { crc32c } from "./crc32c.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "./record_batch.ts";

const text = (s: string) => new TextEncoder().encode(s);
const fromHex = (s: string) =>
  Uint8Array.from(
    s.replace(/\s+/g, "").match(/../g) ?? [],
    (x) => parseInt(x, 16),
  );

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof EdgelogError, `not an EdgelogError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

/** What decoding `inputs` encoded at `baseOffset` must give back. */
function expected(
  inputs: readonly RecordInput[],
  baseOffset: number,
): LogRecord[] {
  return inputs.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp!,
    key: r.key ?? null,
    value: r.value,
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value })),
  }));
}

function withCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer).setUint32(17, crc32c(bytes.subarray(21)));
  return bytes;
}

Deno.test("encodeBatch writes the RecordBatch v2 layout byte for byte", async () => {
  const batch = await encodeBatch([
    { key: text("k"), value: text("v"), timestamp: 1000 },
    {
      key: null,
      value: null,
      headers: [{ key: "h", value: null }],
      timestamp: 999,
    },
  ], { baseOffset: 5, producerId: 7, producerEpoch: 1, baseSequence: 3 });
  const layout = withCrc(fromHex(`
    0000000000000005 00000044 ffffffff 02 00000000
    0000 00000001 00000000000003e7 00000000000003e8
    0000000000000007 0001 00000003 00000002
    10 00 02 00 02 6b 02 76 00
    12 00 00 02 01 01 02 02 68 01`));
  assert.deepEqual(batch, layout);
});

Deno.test("decodeBatch gives records with absolute offsets and timestamps", async () => {
  const inputs: RecordInput[] = [
    { key: text("a"), value: text("1"), timestamp: 1_700_000_000_500 },
    { value: text(""), timestamp: 1_700_000_000_000, partition: 3 },
    {
      key: new Uint8Array(0),
      value: null,
      headers: [
        { key: "unit", value: text("C") },
        { key: "unit", value: null },
        { key: "ключ 🔑", value: new Uint8Array([0, 255]) },
      ],
      timestamp: 1_700_000_009_999,
    },
  ];
  for (const compression of ["none", "gzip"] as const) {
    const batch = await encodeBatch(inputs, {
      baseOffset: 2 ** 40,
      compression,
    });
    const { header, records } = await decodeBatch(batch);
    assert.equal(header.baseOffset, 2 ** 40);
    assert.equal(header.recordCount, 3);
    assert.equal(header.lastOffsetDelta, 2);
    assert.equal(header.baseTimestamp, 1_700_000_000_000);
    assert.equal(header.maxTimestamp, 1_700_000_009_999);
    assert.equal(header.attributes, compression === "gzip" ? 1 : 0);
    assert.equal(header.producerId, -1);
    assert.equal(header.producerEpoch, -1);
    assert.equal(header.baseSequence, -1);
    assert.equal(header.batchLength, batch.length - 12);
    assert.deepEqual(records, expected(inputs, 2 ** 40));
  }
});

Deno.test("options.now stamps records without a timestamp; none is an error", async () => {
  const batch = await encodeBatch([{ value: null }, {
    value: null,
    timestamp: 5,
  }], { now: 9 });
  const { records } = await decodeBatch(batch);
  assert.deepEqual(records.map((r) => r.timestamp), [9, 5]);
  await assert.rejects(encodeBatch([{ value: null }]), TypeError);
});

Deno.test("timestamps far apart and negative round-trip as varlongs", async () => {
  const inputs: RecordInput[] = [
    { value: null, timestamp: Number.MAX_SAFE_INTEGER },
    { value: null, timestamp: 0 },
  ];
  const { records } = await decodeBatch(await encodeBatch(inputs));
  assert.deepEqual(records.map((r) => r.timestamp), [2 ** 53 - 1, 0]);
  const negative = await decodeBatch(
    await encodeBatch([{ value: null, timestamp: -1 }, {
      value: null,
      timestamp: -(2 ** 40),
    }]),
  );
  assert.deepEqual(negative.records.map((r) => r.timestamp), [-1, -(2 ** 40)]);
  assert.equal(negative.header.baseTimestamp, -(2 ** 40));
});

Deno.test("encodeBatch refuses programmer errors with built-in errors", async () => {
  const one = [{ value: null, timestamp: 1 }];
  await assert.rejects(encodeBatch([]), RangeError);
  await assert.rejects(encodeBatch(one, { baseOffset: -1 }), RangeError);
  await assert.rejects(encodeBatch(one, { baseOffset: 2 ** 53 }), RangeError);
  await assert.rejects(encodeBatch(one, { producerEpoch: 40000 }), RangeError);
  await assert.rejects(encodeBatch(one, { baseSequence: 2 ** 31 }), RangeError);
  await assert.rejects(encodeBatch(one, { producerId: 0.5 }), RangeError);
  await assert.rejects(
    encodeBatch([{ value: null, timestamp: 2 ** 53 }]),
    RangeError,
  );
  await assert.rejects(
    encodeBatch([{ value: null, timestamp: -(2 ** 52) }, {
      value: null,
      timestamp: 2 ** 52,
    }]),
    RangeError,
  );
  await assert.rejects(
    encodeBatch([{ value: "text" as unknown as Uint8Array, timestamp: 1 }]),
    TypeError,
  );
  await assert.rejects(
    encodeBatch(one, { compression: "snappy" as "gzip" }),
    TypeError,
  );
});

Deno.test("decodeBatches reads concatenated batches and nothing from nothing", async () => {
  const a = await encodeBatch([{ value: text("a"), timestamp: 1 }]);
  const b = await encodeBatch(
    [{ value: text("b"), timestamp: 2 }, { value: text("c"), timestamp: 3 }],
    { baseOffset: 1, compression: "gzip" },
  );
  const both = new Uint8Array([...a, ...b]);
  const batches = await decodeBatches(both);
  assert.deepEqual(
    batches.flatMap((x) => x.records.map((r) => [r.offset, r.value![0]])),
    [[0, 0x61], [1, 0x62], [2, 0x63]],
  );
  assert.deepEqual(await decodeBatches(new Uint8Array(0)), []);
  await rejectsWith(
    decodeBatches(both.subarray(0, both.length - 1)),
    "CORRUPT_BATCH",
    new RegExp(`byte ${a.length}`),
  );
  const bad = both.slice();
  bad[a.length + 70]! ^= 1;
  await rejectsWith(decodeBatches(bad), "CORRUPT_BATCH", /CRC/);
  await rejectsWith(decodeBatch(both), "CORRUPT_BATCH", /decodeBatches/);
});

Deno.test("decoded records do not alias the batch bytes", async () => {
  const batch = await encodeBatch([{ value: text("abc"), timestamp: 1 }]);
  const { records } = await decodeBatch(batch);
  batch.fill(0);
  assert.deepEqual(records[0]!.value, text("abc"));
});

Deno.test("a batch with an unsupported codec is UNSUPPORTED_COMPRESSION", async () => {
  const batch = await encodeBatch([{ value: text("x"), timestamp: 1 }]);
  for (const [id, name] of [[2, "snappy"], [3, "lz4"], [4, "zstd"]] as const) {
    const other = batch.slice();
    other[22] = id;
    await rejectsWith(
      decodeBatch(withCrc(other)),
      "UNSUPPORTED_COMPRESSION",
      new RegExp(name),
    );
  }
});

Deno.test("log-append-time batches give every record the max timestamp", async () => {
  const batch = await encodeBatch([
    { value: null, timestamp: 10 },
    { value: null, timestamp: 20 },
  ]);
  batch[22]! |= 0x08;
  new DataView(batch.buffer).setBigInt64(35, 777n);
  const { records } = await decodeBatch(withCrc(batch));
  assert.deepEqual(records.map((r) => r.timestamp), [777, 777]);
});

Deno.test("header faults are CORRUPT_BATCH naming the fault", async () => {
  const batch = await encodeBatch([{ value: text("x"), timestamp: 1 }]);
  await rejectsWith(decodeBatch(batch.subarray(0, 60)), "CORRUPT_BATCH", /61/);
  await rejectsWith(
    decodeBatch(batch.subarray(0, batch.length - 1)),
    "CORRUPT_BATCH",
    /truncated/,
  );
  const magic = batch.slice();
  magic[16] = 1;
  await rejectsWith(decodeBatch(magic), "CORRUPT_BATCH", /magic 1/);
  const crc = batch.slice();
  crc[batch.length - 1]! ^= 0x80;
  await rejectsWith(decodeBatch(crc), "CORRUPT_BATCH", /CRC-32C/);
  const negative = batch.slice();
  negative[0] = 0x80;
  await rejectsWith(decodeBatch(negative), "CORRUPT_BATCH", /base offset/);
});

Deno.test("a record section that is not exactly recordCount records is CORRUPT_BATCH", async () => {
  const batch = await encodeBatch([
    { value: text("x"), timestamp: 1 },
    { value: text("y"), timestamp: 1 },
  ]);
  const view = (b: Uint8Array) => new DataView(b.buffer);
  const fewer = batch.slice();
  view(fewer).setInt32(57, 1);
  await rejectsWith(
    decodeBatch(withCrc(fewer)),
    "CORRUPT_BATCH",
    /after its 1/,
  );
  const more = batch.slice();
  view(more).setInt32(57, 3);
  await rejectsWith(decodeBatch(withCrc(more)), "CORRUPT_BATCH");
  const negative = batch.slice();
  view(negative).setInt32(57, -1);
  await rejectsWith(decodeBatch(withCrc(negative)), "CORRUPT_BATCH");
  // First record claims one byte more than its fields take.
  const long = batch.slice();
  long[61] = long[61]! + 2;
  await rejectsWith(decodeBatch(withCrc(long)), "CORRUPT_BATCH", /Record 0/);
});

Deno.test("property: header keys are written as TextEncoder writes them", async () => {
  const codeUnits = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) =>
      String.fromCharCode(c)
    ),
    maxLength: 40,
  });
  const keys = fc.oneof(codeUnits, fc.string({ unit: "binary" }));
  await fc.assert(
    fc.asyncProperty(
      fc.array(keys, { minLength: 1, maxLength: 5 }),
      async (ks) => {
        const batch = await encodeBatch([{
          value: null,
          headers: ks.map((key) => ({ key, value: null })),
          timestamp: 1,
        }]);
        const { records } = await decodeBatch(batch);
        const roundTrip = (k: string) =>
          new TextDecoder().decode(new TextEncoder().encode(k));
        assert.deepEqual(
          records[0]!.headers.map((h) => h.key),
          ks.map(roundTrip),
        );
      },
    ),
    { numRuns: 300 },
  );
});

// ---- properties ----

const bytesArb = fc.uint8Array({ maxLength: 48 });
const headerArb = fc.record({
  key: fc.string({ unit: "binary", maxLength: 8 }),
  value: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
});
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytesArb, { nil: null }),
  value: fc.option(bytesArb, { nil: null }),
  headers: fc.array(headerArb, { maxLength: 4 }),
  timestamp: fc.oneof(
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.maxSafeNat(),
    fc.constant(1_700_000_000_000),
  ),
});
const batchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 200 }),
  baseOffset: fc.oneof(fc.nat(), fc.constant(2 ** 52)),
  compression: fc.constantFrom("none" as const, "gzip" as const),
});

Deno.test("property: decode(encode(records)) gives the records back", async () => {
  await fc.assert(
    fc.asyncProperty(batchArb, async ({ records, baseOffset, compression }) => {
      const batch = await encodeBatch(records, { baseOffset, compression });
      const decoded = await decodeBatch(batch);
      assert.deepEqual(decoded.records, expected(records, baseOffset));
      const ts = records.map((r) => r.timestamp!);
      assert.equal(decoded.header.baseTimestamp, Math.min(...ts));
      assert.equal(decoded.header.maxTimestamp, Math.max(...ts));
    }),
    { numRuns: 150 },
  );
});

const smallBatchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 6 }),
  compression: fc.constantFrom("none" as const, "gzip" as const),
});

Deno.test("property: any byte flip in the CRC-covered region is CORRUPT_BATCH", async () => {
  await fc.assert(
    fc.asyncProperty(
      smallBatchArb,
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      async ({ records, compression }, where, mask) => {
        const batch = await encodeBatch(records, { compression });
        const at = 17 + (where % (batch.length - 17));
        batch[at]! ^= mask;
        await rejectsWith(decodeBatch(batch), "CORRUPT_BATCH");
        await rejectsWith(decodeBatches(batch), "CORRUPT_BATCH");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: flips in baseOffset, batchLength or magic never give wrong records", async () => {
  await fc.assert(
    fc.asyncProperty(
      smallBatchArb,
      fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16),
      fc.integer({ min: 1, max: 255 }),
      async ({ records, compression }, at, mask) => {
        const batch = await encodeBatch(records, {
          compression,
          baseOffset: 9,
        });
        batch[at]! ^= mask;
        let decoded;
        try {
          decoded = await decodeBatch(batch);
        } catch (e) {
          assert.ok(e instanceof EdgelogError, String(e));
          assert.equal(e.code, "CORRUPT_BATCH");
          return;
        }
        assert.ok(at < 8, `a flip at byte ${at} went unnoticed`);
        const base = decoded.header.baseOffset;
        assert.notEqual(base, 9);
        assert.deepEqual(decoded.records, expected(records, base));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: every strict prefix of a batch is CORRUPT_BATCH", async () => {
  await fc.assert(
    fc.asyncProperty(smallBatchArb, fc.nat(), async (input, cut) => {
      const batch = await encodeBatch(input.records, input);
      const prefix = batch.subarray(0, cut % batch.length);
      await rejectsWith(decodeBatch(prefix), "CORRUPT_BATCH");
      if (prefix.length > 0) {
        await rejectsWith(decodeBatches(prefix), "CORRUPT_BATCH");
      }
    }),
    { numRuns: 200 },
  );
});

/** A header that passes every check, over arbitrary record bytes. */
function hostileBatch(
  section: Uint8Array,
  fields: { attributes: number; recordCount: number; baseTimestamp: bigint },
): Uint8Array {
  const batch = new Uint8Array(61 + section.length);
  batch.set(section, 61);
  const v = new DataView(batch.buffer);
  v.setInt32(8, batch.length - 12);
  v.setInt8(16, 2);
  v.setInt16(21, fields.attributes);
  v.setBigInt64(27, fields.baseTimestamp);
  v.setInt32(57, fields.recordCount);
  return withCrc(batch);
}

Deno.test("property: hostile record bytes behind a valid CRC are an EdgelogError or valid records", async () => {
  const valid = await encodeBatch([{
    key: text("k"),
    value: text("v"),
    headers: [{ key: "h", value: text("x") }],
    timestamp: 3,
  }]);
  const template = valid.subarray(61);
  const sectionArb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // Mostly-valid records with a few bytes changed reach deeper fields.
    fc.tuple(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.integer({ min: 1, max: 3 }),
    ).map(([edits, copies]) => {
      const s = new Uint8Array(template.length * copies);
      for (let c = 0; c < copies; c++) s.set(template, c * template.length);
      for (const [at, b] of edits) s[at % s.length] = b;
      return s;
    }),
  );
  await fc.assert(
    fc.asyncProperty(
      sectionArb,
      fc.integer({ min: -2, max: 4 }),
      fc.constantFrom(0, 0x08, 0x10, 0x20),
      fc.constantFrom(0n, -1n, 2n ** 62n, -(2n ** 63n)),
      async (section, recordCount, flags, baseTimestamp) => {
        const batch = hostileBatch(section, {
          attributes: flags,
          recordCount,
          baseTimestamp,
        });
        try {
          const { records } = await decodeBatch(batch);
          assert.equal(records.length, recordCount);
          for (const r of records) {
            assert.ok(Number.isSafeInteger(r.offset));
            assert.ok(Number.isSafeInteger(r.timestamp));
          }
        } catch (e) {
          assert.ok(e instanceof EdgelogError, `not an EdgelogError: ${e}`);
          assert.equal(e.code, "CORRUPT_BATCH", e.message);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("hostile gzip sections are CORRUPT_BATCH", async () => {
  const fields = { attributes: 1, recordCount: 1, baseTimestamp: 0n };
  await rejectsWith(
    decodeBatch(hostileBatch(text("not gzip at all"), fields)),
    "CORRUPT_BATCH",
    /gzip/,
  );
  const garbage = new Uint8Array(
    await new Response(
      new Blob([new Uint8Array([5, 0, 0, 0])]).stream().pipeThrough(
        new CompressionStream("gzip"),
      ),
    ).arrayBuffer(),
  );
  await rejectsWith(
    decodeBatch(hostileBatch(garbage, fields)),
    "CORRUPT_BATCH",
  );
});
