import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";

const DOC = new URL("../docs/http_api.md", import.meta.url);

/** `/v1/topics/{topic}` as docs/http_api.md writes it: `METHOD /path`. */
function documentedForm(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

Deno.test("docs/http_api.md describes every operation of the broker's /openapi.json", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-docs-" });
  // With a Kafka mirror configured (no topics: it connects nowhere), so its
  // admin route is in the document too.
  const broker = await startBroker({
    port: 0,
    dataDir,
    kafkaMirror: { bootstrap: ["127.0.0.1:9"], topics: [] },
  });
  const doc = await (await fetch(`${broker.url}/openapi.json`)).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  await broker.close();
  const text = await Deno.readTextFile(DOC);
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => documentedForm(method, path))
  );
  assert.ok(operations.length >= 14, `only ${operations.length} operations`);
  const missing = operations.filter((op) => !text.includes(op));
  assert.deepEqual(missing, [], "operations missing from docs/http_api.md");
  await Deno.remove(dataDir, { recursive: true });
});
