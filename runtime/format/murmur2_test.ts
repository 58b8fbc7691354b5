import assert from "node:assert/strict";
import fc from "fast-check";
import kafkajsMurmur2 from "kafkajs/src/producer/partitioners/default/murmur2.js";
import { Buffer } from "node:buffer";
import { murmur2 } from "./murmur2.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("murmur2 matches Kafka's UtilsTest vectors", () => {
  const cases: [Uint8Array, number][] = [
    [text("21"), -973932308],
    [text("foobar"), -790332482],
    [text("a-little-bit-long-string"), -985981536],
    [text("a-little-bit-longer-string"), -1486304829],
    [text("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971],
    [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
  ];
  for (const [bytes, expected] of cases) assert.equal(murmur2(bytes), expected);
});

Deno.test("murmur2 matches kafkajs's Java-compatible vectors", () => {
  const cases: Record<string, number> = {
    "0": 971027396,
    "1": -1993445489,
    "128": -326012175,
    "2187": -1508407203,
    "16384": -325739742,
    "78125": -1654490814,
    "279936": 1462227128,
    "823543": -2014198330,
    "2097152": 607668903,
    "4782969": -1182699775,
    "10000000": -1830336757,
    "19487171": -1603849305,
    "35831808": -857013643,
    "62748517": -1167431028,
    "105413504": -381294639,
    "170859375": -1658323481,
    "100:48069": 1009543857,
  };
  for (const [key, expected] of Object.entries(cases)) {
    assert.equal(murmur2(text(key)), expected, key);
  }
});

Deno.test("murmur2 agrees with kafkajs on random keys of every tail length", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70 }), (key) => {
      assert.equal(murmur2(key), kafkajsMurmur2(Buffer.from(key)));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("murmur2 of the empty key is Kafka's and is a signed int32", () => {
  const h = murmur2(new Uint8Array(0));
  assert.equal(h, kafkajsMurmur2(Buffer.alloc(0)));
  assert.equal(h | 0, h);
});
