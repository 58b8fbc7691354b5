import assert from "node:assert/strict";
import fc from "fast-check";
import Encoder from "kafkajs/src/protocol/encoder.js";
import { EdgelogError } from "../errors.ts";
import {
  ByteReader,
  ByteWriter,
  readVarint,
  readVarlong,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "./varint.ts";

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (s: string) =>
  Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

function varint(v: number): string {
  const out = new ByteWriter(1);
  writeVarint(out, v);
  return hex(out.finish());
}

function varlong(v: number): string {
  const out = new ByteWriter(1);
  writeVarlong(out, v);
  return hex(out.finish());
}

/** An independent zig-zag varlong on BigInt, the definition itself. */
function referenceVarlong(v: number): string {
  const x = BigInt(v);
  let z = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
  let s = "";
  while (z >= 0x80n) {
    s += ((z & 0x7fn) | 0x80n).toString(16).padStart(2, "0");
    z >>= 7n;
  }
  return s + z.toString(16).padStart(2, "0");
}

function assertCorrupt(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgelogError);
    assert.equal(e.code, "CORRUPT_BATCH");
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("varint encodes the zig-zag values of the Kafka wire format", () => {
  assert.equal(varint(0), "00");
  assert.equal(varint(-1), "01");
  assert.equal(varint(1), "02");
  assert.equal(varint(63), "7e");
  assert.equal(varint(-64), "7f");
  assert.equal(varint(64), "8001");
  assert.equal(varint(300), "d804");
  assert.equal(varint(2 ** 31 - 1), "feffffff0f");
  assert.equal(varint(-(2 ** 31)), "ffffffff0f");
});

Deno.test("varint rejects what is not an int32", () => {
  for (const v of [2 ** 31, -(2 ** 31) - 1, 1.5, NaN]) {
    assert.throws(() => writeVarint(new ByteWriter(), v), RangeError);
  }
});

Deno.test("varlong covers the whole safe integer range", () => {
  assert.equal(varlong(0), "00");
  assert.equal(varlong(-1), "01");
  assert.equal(varlong(2 ** 31), "8080808010");
  assert.equal(varlong(-(2 ** 31) - 1), "8180808010");
  for (
    const v of [
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 52,
      -(2 ** 52),
      2 ** 35 - 1,
      2 ** 35,
      -(2 ** 35),
      1_700_000_000_000,
      -1_700_000_000_000,
    ]
  ) {
    assert.equal(varlong(v), referenceVarlong(v), `value ${v}`);
    const r = new ByteReader(fromHex(varlong(v)));
    assert.equal(readVarlong(r), v);
    assert.equal(r.remaining, 0);
  }
  assert.throws(() => writeVarlong(new ByteWriter(), 2 ** 53), RangeError);
  assert.throws(() => writeVarlong(new ByteWriter(), 0.5), RangeError);
});

Deno.test("varint and varlong round-trip and match their sizes", () => {
  fc.assert(
    fc.property(fc.integer(), (v) => {
      const out = new ByteWriter(1);
      writeVarint(out, v);
      assert.equal(out.length, varintSize(v));
      assert.equal(hex(out.finish()), referenceVarlong(v));
      assert.equal(readVarint(new ByteReader(out.finish())), v);
      assert.equal(readVarlong(new ByteReader(out.finish())), v);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.oneof(fc.maxSafeInteger(), fc.integer()),
      (v) => {
        const out = new ByteWriter(1);
        writeVarlong(out, v);
        assert.equal(out.length, varlongSize(v));
        assert.equal(hex(out.finish()), referenceVarlong(v));
        assert.equal(readVarlong(new ByteReader(out.finish())), v);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("varints match kafkajs's encoder", () => {
  fc.assert(
    fc.property(fc.integer(), fc.maxSafeInteger(), (i, l) => {
      assert.equal(varint(i), hex(new Encoder().writeVarInt(i).buffer));
      assert.equal(varlong(l), hex(new Encoder().writeVarLong(l).buffer));
    }),
    { numRuns: 500 },
  );
});

Deno.test("reading hostile varints is CORRUPT_BATCH, never a RangeError", () => {
  assertCorrupt(() => readVarint(new ByteReader(fromHex("80"))), /ends early/);
  assertCorrupt(
    () => readVarint(new ByteReader(fromHex("ffffffffff01"))),
    /longer than 5/,
  );
  assertCorrupt(
    () => readVarlong(new ByteReader(fromHex("ffffffffffffffffffff01"))),
    /longer than 10/,
  );
  // 2^53 and -(2^53) - 1 zig-zag to values a number cannot hold.
  assertCorrupt(
    () => readVarlong(new ByteReader(fromHex(referenceVarlong(2 ** 53)))),
    /safe integer/,
  );
  assertCorrupt(
    () => readVarlong(new ByteReader(fromHex("ffffffffffffffff7f"))),
    /safe integer/,
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
      for (const read of [readVarint, readVarlong]) {
        try {
          const v = read(new ByteReader(bytes));
          assert.ok(Number.isSafeInteger(v));
        } catch (e) {
          assert.ok(e instanceof EdgelogError, String(e));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("ByteReader stays inside its range", () => {
  const r = new ByteReader(fromHex("0102030405"), { start: 1, end: 4 });
  assert.equal(r.u8(), 2);
  assert.equal(r.skip(1), 2);
  assert.equal(r.position, 3);
  assert.deepEqual([...r.bytes(1)], [4]);
  assert.equal(r.remaining, 0);
  assertCorrupt(() => r.u8(), /ends early/);
  assertCorrupt(() => r.skip(-1), /ends early/);
});

Deno.test("ByteWriter grows and keeps what it wrote", () => {
  const out = new ByteWriter(1);
  out.u8(7);
  out.bytes(new Uint8Array(40).fill(9));
  writeVarint(out, 300);
  assert.equal(out.length, 43);
  const bytes = out.finish();
  assert.equal(bytes[0], 7);
  assert.equal(bytes[40], 9);
  assert.equal(hex(bytes.subarray(41)), "d804");
});
