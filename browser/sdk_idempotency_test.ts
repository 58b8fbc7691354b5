import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { encodeBatch } from "../runtime/format/mod.ts";
import { IdbStorage } from "./idb_storage.ts";
import type { LockManagerLike } from "./log_sessions.ts";
import { type BrowserLog, openBrowserLog } from "./sdk.ts";

/** Exclusive locks granted in request order, as navigator.locks does. */
function fifoLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request(name, _options, callback) {
      const before = tails.get(name) ?? Promise.resolve();
      const run = before.then(() => callback({ name }));
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

let opened = 0;

async function withLog(
  options: { idempotencyKeys?: number },
  fn: (log: BrowserLog) => Promise<void>,
): Promise<void> {
  const log = await openBrowserLog({
    name: `idempotency-${opened++}`,
    upstream: "http://upstream.invalid/",
    topics: ["readings", "other"],
    sync: false,
    backgroundSync: false,
    locks: fifoLocks(),
    ...options,
  });
  try {
    await fn(log);
  } finally {
    await log.close();
  }
}

const records = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ value: { tag, i } }));

Deno.test("BrowserLog.produce with an idempotency key", async (t) => {
  await t.step(
    "a retry answers the first positions and appends nothing",
    () =>
      withLog({}, async (log) => {
        await log.produce("readings", records(2, "before"));
        const first = await log.produce("readings", records(3, "a"), {
          idempotencyKey: "call-1",
        });
        assert.deepEqual(first.map((p) => p.offset), [2, 3, 4]);
        const again = await log.produce("readings", records(3, "a"), {
          idempotencyKey: "call-1",
        });
        assert.deepEqual(again, first);
        const read = await log.read("readings", 0);
        assert.equal(read.highWatermark, 5);
        assert.deepEqual(
          read.records.map((r) => (r.value as { tag: string }).tag),
          ["before", "before", "a", "a", "a"],
        );
      }),
  );

  await t.step(
    "a key used for another produce is refused",
    () =>
      withLog({}, async (log) => {
        await log.produce("readings", records(1, "a"), { idempotencyKey: "k" });
        for (const [topic, n] of [["other", 1], ["readings", 2]] as const) {
          await assert.rejects(
            log.produce(topic, records(n, "b"), { idempotencyKey: "k" }),
            (err: { code?: string }) => err.code === "BAD_REQUEST",
          );
        }
        assert.equal((await log.read("readings", 0)).highWatermark, 1);
        assert.equal((await log.read("other", 0)).highWatermark, 0);
      }),
  );

  await t.step(
    "bad keys are refused before anything is written",
    () =>
      withLog({}, async (log) => {
        for (const key of ["", "x".repeat(257)]) {
          await assert.rejects(
            log.produce("readings", records(1, "a"), { idempotencyKey: key }),
            TypeError,
          );
        }
        assert.equal((await log.read("readings", 0)).highWatermark, 0);
      }),
  );

  await t.step(
    "idempotencyKeys must be a whole number of at least 1",
    async () => {
      for (const idempotencyKeys of [0, 1.5, -1]) {
        await assert.rejects(
          withLog({ idempotencyKeys }, () => Promise.resolve()),
          RangeError,
        );
      }
    },
  );

  await t.step(
    "only the newest idempotencyKeys keys are kept",
    () =>
      withLog({ idempotencyKeys: 3 }, async (log) => {
        for (let k = 0; k < 5; k++) {
          await log.produce("readings", records(1, `k${k}`), {
            idempotencyKey: `k${k}`,
          });
        }
        for (let k = 2; k < 5; k++) {
          const [position] = await log.produce(
            "readings",
            records(1, "again"),
            {
              idempotencyKey: `k${k}`,
            },
          );
          assert.equal(position!.offset, k, `k${k} is kept`);
        }
        assert.equal((await log.read("readings", 0)).highWatermark, 5);
        const [dropped] = await log.produce("readings", records(1, "again"), {
          idempotencyKey: "k1",
        });
        assert.equal(dropped!.offset, 5, "k1 was dropped: appended again");
      }),
  );
});

Deno.test("IdbStorage: a keyed produce whose commit fails leaves neither records nor key", async () => {
  const name = "idempotency-atomic";
  const options = { quota: { persist: false } };
  const setup = await IdbStorage.open(name, options);
  setup.stageAppends();
  await setup.commitProduce("taken", {
    topic: "t",
    positions: [],
    atMs: 0,
  }, 10);
  await setup.close();

  const storage = await IdbStorage.open(name, options);
  const store = await storage.openPartition("t", 0);
  storage.stageAppends();
  await store.append([
    await encodeBatch([{
      key: null,
      value: new Uint8Array([1]),
      timestamp: 1,
    }]),
  ]);
  assert.equal(store.nextOffset, 1, "staged: the state moved on");
  await assert.rejects(storage.commitProduce("taken", {
    topic: "t",
    positions: [{ partition: 0, offset: 0 }],
    atMs: 1,
  }, 10));
  await storage.close();

  const reopened = await IdbStorage.open(name, options);
  const again = await reopened.openPartition("t", 0);
  assert.equal(again.nextOffset, 0, "the batch was not written");
  assert.deepEqual((await reopened.keyedProduce("taken"))?.positions, []);
  await reopened.close();
});
