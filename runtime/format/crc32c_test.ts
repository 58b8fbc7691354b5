import assert from "node:assert/strict";
import { crc32c } from "./crc32c.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("crc32c matches the RFC 3720 check values", () => {
  assert.equal(crc32c(text("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.equal(crc32c(ascending), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

/** Bit by bit, the definition: what the sliced tables must agree with. */
function slow(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

Deno.test("crc32c gives the same answer for every length split", () => {
  const bytes = Uint8Array.from({ length: 37 }, (_, i) => (i * 31 + 7) & 0xff);
  for (let n = 0; n <= bytes.length; n++) {
    assert.equal(crc32c(bytes.subarray(0, n)), slow(bytes.subarray(0, n)));
  }
});

Deno.test("crc32c reads views at any byte offset of a larger buffer", () => {
  const buffer = Uint8Array.from(
    { length: 300 },
    (_, i) => (i * 131 + 17) & 0xff,
  );
  for (let start = 0; start < 20; start++) {
    for (const length of [15, 16, 17, 64, 250]) {
      const view = buffer.subarray(start, start + length);
      assert.equal(
        crc32c(view),
        slow(view),
        `offset ${start}, ${length} bytes`,
      );
    }
  }
});
