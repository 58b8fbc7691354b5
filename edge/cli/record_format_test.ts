import assert from "node:assert/strict";
import {
  compileFormat,
  jsonLine,
  type PrintedRecord,
  unescape,
} from "./record_format.ts";

const record: PrintedRecord = {
  topic: "sensors",
  partition: 2,
  offset: 41,
  timestamp: 1_765_000_000_000,
  key: "dev-é",
  value: { t: 21.5 },
  headers: { unit: "C", src: "gw" },
};

Deno.test("compileFormat prints every kcat token", () => {
  const print = compileFormat("%t|%p|%o|%T|%k|%s|%K|%S|%h|100%%\\n");
  assert.equal(
    print(record),
    'sensors|2|41|1765000000000|dev-é|{"t":21.5}|6|10|unit=C,src=gw|100%\n',
  );
});

Deno.test("compileFormat: null key and value print empty with length -1; bytes as text", () => {
  const print = compileFormat("[%k][%s][%K][%S]");
  assert.equal(print({ ...record, key: null, value: null }), "[][][-1][-1]");
  assert.equal(
    print({ ...record, key: new Uint8Array([0xff]), value: "plain" }),
    "[\ufffd][plain][1][5]",
  );
});

Deno.test("compileFormat refuses an unknown token, naming it", () => {
  assert.throws(() => compileFormat("%q"), /Unknown format token '%q'/);
  assert.throws(() => compileFormat("end%"), /Unknown format token '%'/);
});

Deno.test("unescape turns \\t, \\n, \\r and \\\\ into characters", () => {
  assert.equal(unescape("a\\tb\\nc\\rd\\\\e\\x"), "a\tb\nc\rd\\e\\x");
});

Deno.test("jsonLine includes the topic and base64 for bytes", () => {
  const line = jsonLine({ ...record, key: new Uint8Array([1, 2]) });
  assert.deepEqual(JSON.parse(line), {
    topic: "sensors",
    partition: 2,
    offset: 41,
    timestamp: 1_765_000_000_000,
    keyBase64: "AQI=",
    value: { t: 21.5 },
    headers: { unit: "C", src: "gw" },
  });
  assert.ok(line.endsWith("}\n"));
});
