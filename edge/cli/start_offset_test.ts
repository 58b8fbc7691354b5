import assert from "node:assert/strict";
import { parseDateTime, parseStartSpec } from "./start_offset.ts";

Deno.test("parseStartSpec reads kcat's offset forms", () => {
  assert.deepEqual(parseStartSpec("beginning"), { kind: "beginning" });
  assert.deepEqual(parseStartSpec("earliest"), { kind: "beginning" });
  assert.deepEqual(parseStartSpec("end"), { kind: "end" });
  assert.deepEqual(parseStartSpec("latest"), { kind: "end" });
  assert.deepEqual(parseStartSpec("42"), { kind: "absolute", offset: 42 });
  assert.deepEqual(parseStartSpec("-10"), { kind: "fromEnd", count: 10 });
  assert.deepEqual(parseStartSpec("s@1765000000000"), {
    kind: "time",
    timestamp: 1765000000000,
  });
  for (
    const bad of ["", "x", "1.5", "s@", "s@-1", "--1", "99999999999999999999"]
  ) {
    assert.equal(parseStartSpec(bad), undefined, bad);
  }
});

Deno.test("parseDateTime takes ISO date-times and milliseconds", () => {
  assert.equal(
    parseDateTime("2026-12-07T10:00:00Z"),
    Date.UTC(2026, 11, 7, 10),
  );
  assert.equal(parseDateTime("1765000000000"), 1765000000000);
  assert.equal(parseDateTime("yesterday"), undefined);
  assert.equal(parseDateTime("2026-13-45T99:00:00Z"), undefined);
});
