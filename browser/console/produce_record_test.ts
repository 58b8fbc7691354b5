import assert from "node:assert/strict";
import { buildRecord } from "./produce_record.ts";

Deno.test("buildRecord: JSON, or text when asked, with key, partition and headers", () => {
  assert.deepEqual(
    buildRecord({
      key: "dev-7",
      partition: "1",
      headers: [{ name: "unit", value: "C" }, { name: "", value: "x" }],
      value: '{"t": 21.5}',
      asText: false,
    }),
    {
      record: {
        value: { t: 21.5 },
        key: "dev-7",
        partition: 1,
        headers: { unit: "C" },
      },
    },
  );
  const refused = buildRecord({
    key: "",
    partition: "",
    headers: [],
    value: "{t: 1}",
    asText: false,
  });
  assert.ok("error" in refused);
  assert.match(refused.error, /not JSON \(.+\)/);
  assert.deepEqual(
    buildRecord({
      key: "",
      partition: "",
      headers: [],
      value: "hé",
      asText: true,
    }),
    { record: { valueBase64: "aMOp" } },
  );
});
