import assert from "node:assert/strict";
import fc from "fast-check";
import type { SegmentInfo } from "./storage.ts";
import {
  budgetCut,
  retentionCut,
  sizeRetentionCut,
  timeRetentionCut,
} from "./retention.ts";

/** Units of 10 offsets each with the given max timestamps and sizes. */
function units(
  spec: [maxTimestamp: number, sizeBytes: number][],
): SegmentInfo[] {
  return spec.map(([maxTimestamp, sizeBytes], i) => ({
    baseOffset: i * 10,
    nextOffset: i * 10 + 10,
    maxTimestamp,
    sizeBytes,
  }));
}

const UNITS = units([[100, 50], [200, 50], [300, 50]]);

Deno.test("timeRetentionCut deletes units whose newest record expired", async (t) => {
  await t.step("nothing expired", () => {
    assert.equal(
      timeRetentionCut(UNITS, { retentionMs: 1000, now: 1000 }),
      null,
    );
  });
  await t.step("a unit is deletable only when strictly older", () => {
    // oldest kept = 100: the first unit's max timestamp is not below it
    assert.equal(
      timeRetentionCut(UNITS, { retentionMs: 900, now: 1000 }),
      null,
    );
    assert.equal(timeRetentionCut(UNITS, { retentionMs: 899, now: 1000 }), 10);
  });
  await t.step("several units", () => {
    assert.equal(timeRetentionCut(UNITS, { retentionMs: 10, now: 305 }), 20);
    assert.equal(timeRetentionCut(UNITS, { retentionMs: 10, now: 5000 }), 30);
  });
  await t.step("stops at the first unit still in time", () => {
    const mixed = units([[100, 1], [900, 1], [100, 1]]);
    assert.equal(timeRetentionCut(mixed, { retentionMs: 100, now: 500 }), 10);
  });
  await t.step("-1 keeps everything", () => {
    assert.equal(timeRetentionCut(UNITS, { retentionMs: -1, now: 1e15 }), null);
  });
  await t.step("no units", () => {
    assert.equal(timeRetentionCut([], { retentionMs: 1, now: 1e15 }), null);
  });
});

Deno.test("sizeRetentionCut keeps at least retentionBytes", async (t) => {
  await t.step("within the limit", () => {
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 200, retentionBytes: 200 }),
      null,
    );
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 249, retentionBytes: 200 }),
      null,
    );
  });
  await t.step("drops a unit when the rest still holds the limit", () => {
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 250, retentionBytes: 200 }),
      10,
    );
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 299, retentionBytes: 200 }),
      10,
    );
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 300, retentionBytes: 200 }),
      20,
    );
  });
  await t.step("all units when the active one alone is over", () => {
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 1000, retentionBytes: 1 }),
      30,
    );
  });
  await t.step("-1 keeps everything", () => {
    assert.equal(
      sizeRetentionCut(UNITS, { sizeBytes: 1e9, retentionBytes: -1 }),
      null,
    );
  });
});

Deno.test("retentionCut takes the larger cut and never crosses the floor", () => {
  const base = {
    now: 350,
    retentionMs: 100,
    sizeBytes: 300,
    retentionBytes: -1,
  };
  assert.equal(retentionCut(UNITS, base), 20);
  assert.equal(retentionCut(UNITS, { ...base, retentionBytes: 100 }), 30);
  assert.equal(
    retentionCut(UNITS, { ...base, retentionMs: -1, retentionBytes: 250 }),
    10,
  );
  assert.equal(
    retentionCut(UNITS, { ...base, retentionBytes: 100, floor: 25 }),
    20,
  );
  assert.equal(retentionCut(UNITS, { ...base, floor: 20 }), 20);
  assert.equal(retentionCut(UNITS, { ...base, floor: 19 }), 10);
  assert.equal(retentionCut(UNITS, { ...base, floor: 9 }), null);
  assert.equal(retentionCut(UNITS, { ...base, floor: 0 }), null);
  assert.equal(retentionCut(UNITS, { ...base, retentionMs: -1 }), null);
});

Deno.test("budgetCut drops the fewest oldest units that make room", () => {
  const at = (sizeBytes: number, incomingBytes: number, budgetBytes: number) =>
    budgetCut(UNITS, { sizeBytes, incomingBytes, budgetBytes });
  assert.equal(at(200, 100, 300), null);
  assert.equal(at(200, 101, 300), 10);
  assert.equal(at(200, 150, 300), 10);
  assert.equal(at(200, 151, 300), 20);
  assert.equal(at(200, 200, 300), 20);
  assert.equal(at(200, 201, 300), 30);
  assert.equal(at(200, 10_000, 300), 30);
  assert.equal(
    budgetCut([], { sizeBytes: 500, incomingBytes: 1, budgetBytes: 10 }),
    null,
  );
});

Deno.test("cuts are always the end of a unit and within the floor (property)", () => {
  const unitList = fc.array(
    fc.tuple(
      fc.integer({ min: -1, max: 1000 }),
      fc.integer({ min: 1, max: 100 }),
    ),
    { maxLength: 12 },
  );
  fc.assert(fc.property(
    unitList,
    fc.integer({ min: 0, max: 200 }),
    fc.integer({ min: -1, max: 1000 }),
    fc.integer({ min: -1, max: 1500 }),
    fc.integer({ min: 0, max: 130 }),
    (spec, activeBytes, retentionMs, retentionBytes, floor) => {
      const list = units(spec);
      const sizeBytes = list.reduce((n, u) => n + u.sizeBytes, activeBytes);
      const cut = retentionCut(list, {
        now: 1000,
        retentionMs,
        retentionBytes,
        sizeBytes,
        floor,
      });
      if (cut === null) return;
      const index = list.findIndex((u) => u.nextOffset === cut);
      assert.ok(index >= 0, "cut at a unit boundary");
      assert.ok(cut <= floor, "cut within the floor");
      const deleted = list.slice(0, index + 1);
      const freed = deleted.reduce((n, u) => n + u.sizeBytes, 0);
      const expiredPrefix = deleted.every((u) =>
        u.maxTimestamp < 1000 - retentionMs
      ) &&
        retentionMs >= 0;
      const sizeOk = retentionBytes >= 0 && sizeBytes - freed >= retentionBytes;
      assert.ok(expiredPrefix || sizeOk, "every deleted unit was asked for");
    },
  ));
});
