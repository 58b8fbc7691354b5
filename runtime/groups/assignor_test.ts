import assert from "node:assert/strict";
import fc from "fast-check";
import { type Assignment, assignPartitions } from "./assignor.ts";

const TOPICS = ["a", "b", "c"];

/** Subscriptions of up to 6 members over a few topics (and one unknown). */
const subscriptionsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 6 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.subarray([...TOPICS, "ghost"]).map((topics) =>
          [`m${id}`, topics] as const
        )
      ),
    )
  )
  .map((entries) => new Map<string, readonly string[]>(entries));

const countsArb = fc
  .tuple(...TOPICS.map(() => fc.integer({ min: 0, max: 13 })))
  .map((counts) => new Map(TOPICS.map((t, i) => [t, counts[i]!])));

/** A valid earlier assignment: each partition to at most one member id. */
function currentArb(counts: Map<string, number>) {
  const owners = ["m0", "m1", "m2", "m3", "m9", "gone"];
  const slots = TOPICS.flatMap((t) =>
    Array.from({ length: counts.get(t)! + 2 }, (_, p) => [t, p] as const)
  );
  return fc
    .tuple(...slots.map(() => fc.option(fc.constantFrom(...owners))))
    .map((picks) => {
      const current: Assignment = new Map();
      picks.forEach((owner, i) => {
        if (owner === null) return;
        const [topic, p] = slots[i]!;
        const mine = current.get(owner) ?? new Map<string, number[]>();
        current.set(owner, mine);
        mine.set(topic, [...(mine.get(topic) ?? []), p]);
      });
      return current;
    });
}

const scenarioArb = fc
  .tuple(subscriptionsArb, countsArb)
  .chain(([subs, counts]) =>
    currentArb(counts).map((current) => ({ subs, counts, current }))
  );

function owners(assignment: Assignment, topic: string): Map<number, string[]> {
  const byPartition = new Map<number, string[]>();
  for (const [id, topics] of assignment) {
    for (const p of topics.get(topic) ?? []) {
      byPartition.set(p, [...(byPartition.get(p) ?? []), id]);
    }
  }
  return byPartition;
}

function subscribers(subs: Map<string, readonly string[]>, topic: string) {
  return [...subs].filter(([, ts]) => ts.includes(topic)).map(([id]) => id);
}

function count(assignment: Assignment, id: string, topic: string): number {
  return assignment.get(id)?.get(topic)?.length ?? 0;
}

/** Partitions whose owner differs between two assignments (absent = none). */
function moved(before: Assignment, after: Assignment): number {
  let n = 0;
  for (const topic of TOPICS) {
    const was = owners(before, topic);
    for (const [p, now] of owners(after, topic)) {
      if (was.get(p)?.[0] !== now[0]) n++;
    }
  }
  return n;
}

Deno.test("assignPartitions", async (t) => {
  await t.step("gives every partition to exactly one subscriber", () => {
    fc.assert(fc.property(scenarioArb, ({ subs, counts, current }) => {
      const result = assignPartitions(subs, counts, { current });
      assert.deepEqual([...result.keys()].sort(), [...subs.keys()].sort());
      for (const topic of TOPICS) {
        const byPartition = owners(result, topic);
        const subscribed = subscribers(subs, topic);
        if (subscribed.length === 0) {
          assert.equal(byPartition.size, 0);
          continue;
        }
        assert.equal(byPartition.size, counts.get(topic));
        for (const [p, ids] of byPartition) {
          assert.ok(p >= 0 && p < counts.get(topic)!);
          assert.equal(ids.length, 1);
          assert.ok(subscribed.includes(ids[0]!));
        }
      }
      for (const topics of result.values()) {
        assert.ok(!topics.has("ghost"));
        for (const partitions of topics.values()) {
          assert.ok(partitions.length > 0);
          assert.deepEqual(partitions, [...partitions].sort((x, y) => x - y));
        }
      }
    }));
  });

  await t.step("is balanced per topic", () => {
    fc.assert(fc.property(scenarioArb, ({ subs, counts, current }) => {
      const result = assignPartitions(subs, counts, { current });
      for (const topic of TOPICS) {
        const sizes = subscribers(subs, topic).map((id) =>
          count(result, id, topic)
        );
        if (sizes.length === 0) continue;
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      }
    }));
  });

  await t.step("keeps the most partitions any balanced assignment can", () => {
    fc.assert(fc.property(scenarioArb, ({ subs, counts, current }) => {
      const result = assignPartitions(subs, counts, { current });
      for (const topic of TOPICS) {
        const subscribed = subscribers(subs, topic);
        if (subscribed.length === 0) continue;
        const total = counts.get(topic)!;
        const base = Math.floor(total / subscribed.length);
        const larger = total % subscribed.length;
        const held = subscribed.map((id) =>
          (current.get(id)?.get(topic) ?? []).filter((p) => p < total).length
        );
        const best = held.reduce((sum, c) => sum + Math.min(c, base), 0) +
          Math.min(larger, held.filter((c) => c > base).length);
        const kept = subscribed.reduce(
          (sum, id) =>
            sum +
            (result.get(id)?.get(topic) ?? []).filter((p) =>
              current.get(id)?.get(topic)?.includes(p)
            ).length,
          0,
        );
        assert.equal(kept, best);
      }
    }));
  });

  await t.step("is stable: a second run changes nothing", () => {
    fc.assert(fc.property(scenarioArb, ({ subs, counts, current }) => {
      const once = assignPartitions(subs, counts, { current });
      assert.deepEqual(
        assignPartitions(subs, counts, { current: once }),
        once,
      );
    }));
  });

  await t.step("a new member takes only its own share", () => {
    fc.assert(fc.property(
      scenarioArb,
      fc.subarray(TOPICS),
      ({ subs, counts, current }, topics) => {
        const before = assignPartitions(subs, counts, { current });
        const grown = new Map(subs).set("new", topics);
        const after = assignPartitions(grown, counts, { current: before });
        let expected = 0;
        for (const topic of topics) {
          const n = subscribers(subs, topic).length;
          expected += n === 0
            ? counts.get(topic)!
            : Math.floor(counts.get(topic)! / (n + 1));
          assert.equal(
            count(after, "new", topic),
            n === 0
              ? counts.get(topic)!
              : Math.floor(counts.get(topic)! / (n + 1)),
          );
        }
        assert.equal(moved(before, after), expected);
      },
    ));
  });

  await t.step(
    "a departing member's partitions are the only ones to move",
    () => {
      fc.assert(fc.property(
        scenarioArb.filter(({ subs }) => subs.size > 0),
        fc.nat(),
        ({ subs, counts, current }, pick) => {
          const before = assignPartitions(subs, counts, { current });
          const gone = [...subs.keys()][pick % subs.size]!;
          const shrunk = new Map(subs);
          shrunk.delete(gone);
          const after = assignPartitions(shrunk, counts, { current: before });
          let orphaned = 0;
          for (const [topic, partitions] of before.get(gone) ?? []) {
            if (subscribers(shrunk, topic).length > 0) {
              orphaned += partitions.length;
            }
          }
          assert.equal(moved(before, after), orphaned);
          for (const [id, topics] of after) {
            for (const [topic, partitions] of before.get(id) ?? []) {
              for (const p of partitions) {
                assert.ok(topics.get(topic)?.includes(p));
              }
            }
          }
        },
      ));
    },
  );

  await t.step("ignores out-of-range and doubly claimed partitions", () => {
    const current: Assignment = new Map([
      ["a", new Map([["t", [0, 1, 7]]])],
      ["b", new Map([["t", [1, 2]]])],
    ]);
    const result = assignPartitions(
      new Map([["a", ["t"]], ["b", ["t"]]]),
      new Map([["t", 4]]),
      { current },
    );
    assert.deepEqual(result.get("a")?.get("t"), [0, 1]);
    assert.deepEqual(result.get("b")?.get("t"), [2, 3]);
  });

  await t.step("rejects a bad partition count", () => {
    assert.throws(
      () => assignPartitions(new Map([["a", ["t"]]]), new Map([["t", 1.5]])),
      RangeError,
    );
  });
});
