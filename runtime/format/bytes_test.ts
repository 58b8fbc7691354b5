import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";

Deno.test("concatBytes joins views at their own offsets, and nothing", () => {
  const backing = Uint8Array.from([9, 1, 2, 3, 9]);
  const joined = concatBytes([
    backing.subarray(1, 3),
    new Uint8Array(0),
    backing.subarray(3, 4),
  ]);
  assert.deepEqual([...joined], [1, 2, 3]);
  assert.notEqual(joined.buffer, backing.buffer);
  assert.equal(concatBytes([]).length, 0);
});
