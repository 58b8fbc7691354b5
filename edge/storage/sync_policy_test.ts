import assert from "node:assert/strict";
import { ManualClock } from "../../runtime/clock.ts";
import {
  checkFsyncPolicy,
  type FsyncPolicy,
  SyncScheduler,
} from "./sync_policy.ts";

function counting(policy: FsyncPolicy, clock = new ManualClock()) {
  const counter = { syncs: 0 };
  const scheduler = new SyncScheduler(policy, {
    clock,
    sync: () => {
      counter.syncs++;
      return Promise.resolve();
    },
  });
  return { counter, scheduler, clock };
}

Deno.test("always: every write is fsynced before it is acknowledged", async () => {
  const { counter, scheduler } = counting("always");
  await scheduler.afterWrite();
  await scheduler.afterWrite();
  assert.equal(counter.syncs, 2);
  await scheduler.flush();
  assert.equal(counter.syncs, 2, "nothing left to sync");
});

Deno.test("intervalMs: one fsync per interval, after the writes", async () => {
  const { counter, scheduler, clock } = counting({ intervalMs: 50 });
  await scheduler.afterWrite();
  await scheduler.afterWrite();
  assert.equal(counter.syncs, 0, "acknowledged before the fsync");
  clock.advance(49);
  await Promise.resolve();
  assert.equal(counter.syncs, 0);
  clock.advance(1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(counter.syncs, 1);
  assert.equal(scheduler.dirty, false);
  clock.advance(500);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(counter.syncs, 1, "no fsync when nothing was written");
  await scheduler.afterWrite();
  await scheduler.close();
  assert.equal(counter.syncs, 2, "close fsyncs what is pending");
});

Deno.test("never: only flush and close fsync", async () => {
  const { counter, scheduler, clock } = counting("never");
  await scheduler.afterWrite();
  clock.advance(1e9);
  assert.equal(counter.syncs, 0);
  await scheduler.flush();
  assert.equal(counter.syncs, 1);
  await scheduler.afterWrite();
  await scheduler.close();
  assert.equal(counter.syncs, 2);
});

Deno.test("a failed background fsync is reported by the next write", async () => {
  const clock = new ManualClock();
  let fail = true;
  const scheduler = new SyncScheduler({ intervalMs: 10 }, {
    clock,
    sync: () =>
      fail ? Promise.reject(new Error("disk gone")) : Promise.resolve(),
  });
  await scheduler.afterWrite();
  clock.advance(10);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await assert.rejects(scheduler.afterWrite(), /disk gone/);
  fail = false;
  await scheduler.close();
});

Deno.test("a failed fsync leaves the writes pending for the next flush", async () => {
  let fail = true;
  let syncs = 0;
  const scheduler = new SyncScheduler("never", {
    clock: new ManualClock(),
    sync: () => {
      syncs++;
      return fail ? Promise.reject(new Error("EIO")) : Promise.resolve();
    },
  });
  await scheduler.afterWrite();
  await assert.rejects(scheduler.flush(), /EIO/);
  assert.equal(scheduler.dirty, true);
  fail = false;
  await scheduler.flush();
  assert.equal(syncs, 2);
});

Deno.test("checkFsyncPolicy refuses what is not a policy", () => {
  assert.equal(checkFsyncPolicy("always"), "always");
  assert.deepEqual(checkFsyncPolicy({ intervalMs: 5 }), { intervalMs: 5 });
  assert.throws(() => checkFsyncPolicy("sometimes"), TypeError);
  assert.throws(() => checkFsyncPolicy({ intervalMs: 0 }), RangeError);
  assert.throws(() => checkFsyncPolicy({ intervalMs: "5" }), RangeError);
});
