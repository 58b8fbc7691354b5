import assert from "node:assert/strict";
import {
  type ApiRecord,
  asText,
  hexDump,
  matches,
  parseValueFilter,
  showKey,
  showValue,
} from "./record_value.ts";
import { encodeBase64 } from "../../runtime/format/base64.ts";

const base = { partition: 0, offset: 0, timestamp: 0 };
const bytes = (text: string) => encodeBase64(new TextEncoder().encode(text));

Deno.test("showValue: JSON pretty, text as text, binary only as hex", () => {
  const json: ApiRecord = { ...base, value: { t: 21.5 } };
  assert.deepEqual(showValue(json, "auto"), {
    kind: "json",
    text: '{\n  "t": 21.5\n}',
  });
  const text: ApiRecord = { ...base, valueBase64: bytes("héllo") };
  assert.deepEqual(showValue(text, "auto"), { kind: "text", text: "héllo" });
  const binary: ApiRecord = {
    ...base,
    valueBase64: encodeBase64(new Uint8Array([0, 1, 0xff, 0x41])),
  };
  assert.equal(showValue(binary, "auto").kind, "hex");
  assert.deepEqual(showValue(binary, "text").note, "binary: shown as hex");
  assert.equal(
    showValue(binary, "auto").text,
    "00000000  00 01 ff 41" + " ".repeat(36) + "  ...A",
  );
  assert.equal(showValue({ ...base, value: null }, "json").kind, "tombstone");
  assert.equal(showValue({ ...base, value: "s" }, "text").text, "s");
});

Deno.test("asText refuses control characters and bad UTF-8", () => {
  assert.equal(asText(new Uint8Array([0x61, 0x0a, 0x09])), "a\n\t");
  assert.equal(asText(new Uint8Array([0x61, 0x07])), undefined);
  assert.equal(asText(new Uint8Array([0xc3])), undefined);
  assert.equal(hexDump(new Uint8Array(17)).split("\n").length, 2);
});

Deno.test("filters: key substring, value substring, JSON path with equality", () => {
  const r: ApiRecord = {
    ...base,
    key: "dev-7",
    value: { a: { b: [1, { c: "on" }] }, "x y": 2 },
  };
  const f = parseValueFilter;
  assert.equal(matches(r, "dev", f("")), true);
  assert.equal(matches(r, "dev-8", f("")), false);
  assert.equal(matches(r, "", f('"c":"on"')), true);
  assert.equal(matches(r, "", f("$.a.b[1].c")), true);
  assert.equal(matches(r, "", f('$.a.b[1].c == "on"')), true);
  assert.equal(matches(r, "", f("$.a.b[1].c == off")), false);
  assert.equal(matches(r, "", f('$["x y"] == 2')), true);
  assert.equal(matches(r, "", f("$.nope")), false);
  assert.throws(() => f("$.a..b"), SyntaxError);
  assert.equal(
    showKey({ ...base, keyBase64: encodeBase64(new Uint8Array([255])) }),
    "(binary) ff",
  );
});
