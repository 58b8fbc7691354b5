import assert from "node:assert/strict";
import { FsMetaStore, metaFileStem } from "./fs_meta_store.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_meta_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("metaFileStem keeps safe characters and escapes the rest", async () => {
  assert.equal(await metaFileStem("offsets.g-1_x"), "offsets.g-1_x");
  assert.equal(await metaFileStem("topic/Orders"), "topic%2F%4Frders");
  assert.equal(await metaFileStem(".."), "..");
  assert.equal(await metaFileStem("é"), "%C3%A9");
  assert.notEqual(await metaFileStem("A"), await metaFileStem("a"));
  const long = await metaFileStem("x/".repeat(300));
  assert.ok(long.length <= 160, `${long.length} characters`);
  assert.notEqual(long, await metaFileStem("x/".repeat(301)));
});

Deno.test("FsMetaStore: one JSON file per key, surviving a reopen", async () => {
  await withDir(async (dir) => {
    const meta = await FsMetaStore.open(dir);
    const longKey = "group/".repeat(60);
    await meta.set("topic/Orders", { partitions: 3 });
    await meta.set("../escape", 1);
    await meta.set(longKey, [1, 2]);
    await meta.set("", "empty key");
    assert.deepEqual(
      await names(dir),
      [
        ".json",
        "..%2Fescape.json",
        (await metaFileStem(longKey)) + ".json",
        "topic%2F%4Frders.json",
      ].sort(),
    );
    const again = await FsMetaStore.open(dir);
    assert.deepEqual(await again.list(""), [
      ["", "empty key"],
      ["../escape", 1],
      [longKey, [1, 2]],
      ["topic/Orders", { partitions: 3 }],
    ]);
  });
});

Deno.test("FsMetaStore: writes to one key land in call order", async () => {
  await withDir(async (dir) => {
    const meta = await FsMetaStore.open(dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => meta.set("offset", i)),
    );
    assert.equal(await meta.get("offset"), 19);
    await Promise.all([meta.set("k", 1), meta.delete("k"), meta.set("k", 2)]);
    const again = await FsMetaStore.open(dir);
    assert.equal(await again.get("offset"), 19);
    assert.equal(await again.get("k"), 2);
    assert.deepEqual(
      (await names(dir)).filter((n) => n.endsWith(".tmp")),
      [],
      "no temporary file is left",
    );
  });
});

Deno.test("FsMetaStore: a crash's temporary file is ignored and removed", async () => {
  await withDir(async (dir) => {
    const meta = await FsMetaStore.open(dir);
    await meta.set("k", "old");
    await Deno.writeTextFile(`${dir}/k.json.7.tmp`, '{"key":"k","val');
    const again = await FsMetaStore.open(dir);
    assert.equal(await again.get("k"), "old");
    assert.deepEqual(await names(dir), ["k.json"]);
  });
});

Deno.test("FsMetaStore refuses values JSON cannot hold and damaged files", async () => {
  await withDir(async (dir) => {
    const meta = await FsMetaStore.open(dir);
    await assert.rejects(meta.set("f", () => 1), TypeError);
    await assert.rejects(meta.set("b", 1n), TypeError);
    await meta.set("u", 1);
    await meta.set("u", undefined);
    assert.equal(await meta.get("u"), undefined, "undefined deletes");
    await Deno.writeTextFile(`${dir}/bad.json`, "{not json");
    await assert.rejects(FsMetaStore.open(dir), /bad\.json/);
  });
});

Deno.test("FsMetaStore: every read after a reopen is its own copy, and a write replaces what was loaded", async () => {
  await withDir(async (dir) => {
    const first = await FsMetaStore.open(dir);
    await first.set("a", { n: 1 });
    await first.set("b", { n: 2 });
    const meta = await FsMetaStore.open(dir);
    const [[, listed]] = await meta.list("a") as [[string, { n: number }]];
    listed.n = 99;
    assert.deepEqual(await meta.get("a"), { n: 1 });
    assert.deepEqual(await meta.list("a"), [["a", { n: 1 }]]);
    await meta.set("b", { n: 3 });
    assert.deepEqual(await meta.get("b"), { n: 3 });
    await meta.delete("a");
    assert.equal(await meta.get("a"), undefined);
    await assert.rejects(() => meta.set("f", () => 1), TypeError);
  });
});
