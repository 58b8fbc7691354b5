import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { GroupCoordinator } from "../groups/mod.ts";
import {
  Log,
  MemoryStorage,
  type MetaStore,
  type PartitionStore,
  type Storage,
} from "../log/mod.ts";
import { createApp } from "./app.ts";
import { toEdgelogError } from "./errors.ts";
import { send } from "./_test_util.ts";

/** What a filesystem throws when the disk is full. */
function enospc(): Error {
  return Object.assign(new Error("No space left on device (os error 28)"), {
    code: "ENOSPC",
  });
}

/** A storage whose writes fail with ENOSPC while `full` is set. */
class FillableStorage implements Storage {
  readonly kind = "memory";
  readonly meta: MetaStore;
  full = false;
  #inner = new MemoryStorage();

  constructor() {
    const inner = this.#inner.meta;
    this.meta = {
      get: (key) => inner.get(key),
      set: (key, value) =>
        this.full ? Promise.reject(enospc()) : inner.set(key, value),
      delete: (key) => inner.delete(key),
      list: (prefix) => inner.list(prefix),
    };
  }

  async openPartition(topic: string, p: number): Promise<PartitionStore> {
    const store = await this.#inner.openPartition(topic, p);
    const append = (batches: readonly Uint8Array[]) =>
      this.full ? Promise.reject(enospc()) : store.append(batches);
    return new Proxy(store, {
      get: (target, name) =>
        name === "append"
          ? append
          : Reflect.get(target, name, target) instanceof Function
          ? (Reflect.get(target, name, target) as () => unknown).bind(target)
          : Reflect.get(target, name, target),
    });
  }

  deletePartition(topic: string, p: number): Promise<void> {
    return this.#inner.deletePartition(topic, p);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

Deno.test("a full disk answers 507 STORAGE_FULL with one log line, and reads go on", async () => {
  const storage = new FillableStorage();
  const clock = new ManualClock(1_700_000_000_000);
  const log = await Log.open({ storage, clock });
  const groups = await GroupCoordinator.open({
    meta: log.meta,
    clock,
    partitionCount: () => undefined,
    highWatermark: () => 0,
  });
  const app = createApp({ log, groups });
  const logged: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await log.createTopic("t");
    const record = { records: [{ value: { n: 1 } }] };
    assert.equal(
      (await send(app, "POST", "/v1/topics/t/records", record)).status,
      200,
    );

    storage.full = true;
    for (let i = 0; i < 3; i++) {
      const res = await send(app, "POST", "/v1/topics/t/records", record);
      assert.equal(res.status, 507);
      const body = await res.json();
      assert.equal(body.error.code, "STORAGE_FULL");
      assert.doesNotMatch(body.error.message, /at .*\.ts/);
    }
    const create = await send(app, "POST", "/v1/topics", { name: "u" });
    assert.equal(create.status, 507);
    await create.body?.cancel();
    assert.equal(logged.length, 1, "one line while the disk stays full");
    assert.equal(logged[0]!.length, 1);
    assert.match(String(logged[0]![0]), /storage full/);

    const read = await send(app, "GET", "/v1/topics/t/partitions/0/records");
    assert.equal(read.status, 200);
    assert.equal((await read.json()).records.length, 1);
    assert.equal(log.partition("t", 0).highWatermark, 1);

    storage.full = false;
    assert.equal(
      (await send(app, "POST", "/v1/topics/t/records", record)).status,
      200,
    );
    assert.equal(log.partition("t", 0).highWatermark, 2);
  } finally {
    console.error = consoleError;
    await log.close();
  }
});

Deno.test("running out of file descriptors answers 503 LIMIT_REACHED openFiles, not 500", async () => {
  const consoleError = console.error;
  console.error = () => {};
  try {
    const err = toEdgelogError(
      Object.assign(new Error("Too many open files (os error 24)"), {
        code: "EMFILE",
      }),
    );
    assert.equal(err.status, 503);
    assert.deepEqual(err.toJSON().error, {
      code: "LIMIT_REACHED",
      message: "The node has too many open files; try again later",
      limit: "openFiles",
    });
  } finally {
    console.error = consoleError;
  }
});
