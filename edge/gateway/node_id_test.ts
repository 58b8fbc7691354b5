import assert from "node:assert/strict";
import { loadNodeId } from "./node_id.ts";

Deno.test("the node id is generated once and kept; --node-id replaces it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await loadNodeId(dir);
    assert.match(first, /^gw-[0-9a-f-]{36}$/);
    assert.equal(await loadNodeId(dir), first);
    assert.equal(await loadNodeId(dir, "plant-7"), "plant-7");
    assert.equal(await loadNodeId(dir), "plant-7");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
