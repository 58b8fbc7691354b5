/**
 * A bounded fleet soak on loopback: 10 000 devices, each its own sync
 * stream, against a real broker (fsync always). They register, push, some
 * resend a push whose answer they "lost", three in ten go silent while the
 * rest push through the multi-stream route, the broker restarts with every
 * stream held, the silent ones come back (re-register, resume from the
 * acknowledged offset) and everybody pushes once more. Then every record is
 * read back and checked device by device: each exactly once, in order.
 * The broker's streams are listed page by page, and the process's RSS stays
 * bounded throughout.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Broker, startBroker } from "../edge/broker.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";
import {
  concatBytes,
  decodeBatch,
  encodeBatch,
  setProducer,
  splitBatches,
} from "../runtime/format/mod.ts";
import { sequenceForOffset } from "../runtime/sync/sequence.ts";

const DEVICES = 10_000;
const RECORDS_PER_PUSH = 2;
const IN_FLIGHT = 32;
/** Devices per multi-stream push. */
const PER_MULTI = 100;
const PARTITIONS = 4;
/** The whole process (client and broker); the broker alone is far below. */
const RSS_LIMIT = 700 * 2 ** 20;

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Device {
  producerId: number;
  epoch: number;
  /** Local offset of the next record. */
  next: number;
}

/** Device `d`'s batch of local offsets `from` … `from + count - 1`. */
async function batchOf(d: number, dev: Device, from: number, count: number) {
  const batch = await encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      key: enc.encode(`d${d}`),
      value: enc.encode(JSON.stringify({ d, o: from + i })),
      timestamp: 1_700_000_000_000 + from + i,
    })),
    { baseOffset: from },
  );
  setProducer(batch, dev.producerId, dev.epoch, sequenceForOffset(from));
  return batch;
}

/** Runs `work(i)` for i in 0 … n-1, {@linkcode IN_FLIGHT} at a time. */
async function pool(n: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

function rssSampler() {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  };
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

Deno.test("fleet soak: 10 000 devices register, push, go silent and come back; every record exactly once", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-soak-" });
  const rss = rssSampler();
  let broker: Broker = await startBroker({ port: 0, dataDir });
  try {
    let client = new EdgelogClient(broker.url);
    await client.createTopic("fleet", { partitions: PARTITIONS });
    const devices: Device[] = [];
    const silent = (d: number) => d % 10 < 3;

    await pool(DEVICES, async (d) => {
      const reg = await client.registerStream(`device-${d}`, "fleet", 0);
      assert.equal(reg.ackedOffset, -1);
      devices[d] = {
        producerId: reg.producerId,
        epoch: reg.producerEpoch,
        next: 0,
      };
    });

    /** One push of device `d` by its own route; checks the ack. */
    const pushOne = async (d: number, rounds = 1) => {
      const dev = devices[d]!;
      const body = concatBytes(
        await Promise.all(
          Array.from(
            { length: rounds },
            (_, r) =>
              batchOf(
                d,
                dev,
                dev.next + r * RECORDS_PER_PUSH,
                RECORDS_PER_PUSH,
              ),
          ),
        ),
      );
      const answer = await client.pushBatches(dev.producerId, body);
      dev.next += rounds * RECORDS_PER_PUSH;
      assert.equal(answer.ackedOffset, dev.next - 1, `device ${d}`);
    };
    /** One multi-stream push for devices `ds`; checks every ack. */
    const pushMany = async (ds: number[]) => {
      const bodies = await Promise.all(
        ds.map((d) =>
          batchOf(d, devices[d]!, devices[d]!.next, RECORDS_PER_PUSH)
        ),
      );
      const results = await client.pushStreams(concatBytes(bodies));
      ds.forEach((d, i) => {
        const dev = devices[d]!;
        dev.next += RECORDS_PER_PUSH;
        assert.deepEqual(
          [
            results[i]?.producerId,
            (results[i] as { ackedOffset?: number }).ackedOffset,
          ],
          [dev.producerId, dev.next - 1],
          `device ${d}: ${JSON.stringify(results[i])}`,
        );
      });
    };
    const groups = (ds: number[]) =>
      Array.from(
        { length: Math.ceil(ds.length / PER_MULTI) },
        (_, g) => ds.slice(g * PER_MULTI, (g + 1) * PER_MULTI),
      );

    // Round 1: everybody, one request each.
    await pool(DEVICES, (d) => pushOne(d));
    // A lost answer: the device sends its last push again; acked, not stored.
    await pool(DEVICES / 10, async (i) => {
      const d = i * 10 + 9;
      const dev = devices[d]!;
      const again = await batchOf(
        d,
        dev,
        dev.next - RECORDS_PER_PUSH,
        RECORDS_PER_PUSH,
      );
      const answer = await client.pushBatches(dev.producerId, again);
      assert.equal(answer.ackedOffset, dev.next - 1);
    });
    // Round 2: the awake seven in ten, through the multi-stream route.
    const awake = devices.map((_, d) => d).filter((d) => !silent(d));
    const awakeGroups = groups(awake);
    await pool(awakeGroups.length, (g) => pushMany(awakeGroups[g]!));

    // The broker restarts with every stream held.
    await broker.close();
    broker = await startBroker({ port: 0, dataDir });
    client = new EdgelogClient(broker.url);

    // The silent ones come back: a new epoch, resuming after their ack.
    const stale: { d: number; epoch: number }[] = [];
    await pool(DEVICES, async (d) => {
      if (!silent(d)) return;
      const dev = devices[d]!;
      const reg = await client.registerStream(`device-${d}`, "fleet", 0);
      assert.equal(reg.producerId, dev.producerId);
      assert.equal(reg.producerEpoch, dev.epoch + 1);
      assert.equal(reg.ackedOffset, dev.next - 1);
      if (stale.length < 5) stale.push({ d, epoch: dev.epoch });
      dev.epoch = reg.producerEpoch;
      await pushOne(d, 2);
    });
    // An old epoch is fenced and changes nothing.
    for (const { d, epoch } of stale) {
      const dev = devices[d]!;
      const old = await batchOf(
        d,
        { ...dev, epoch },
        dev.next,
        RECORDS_PER_PUSH,
      );
      await assert.rejects(
        () => client.pushBatches(dev.producerId, old),
        (err: Error & { code?: string }) => err.code === "FENCED",
      );
    }
    // Round 3 for the others.
    await pool(awakeGroups.length, (g) => pushMany(awakeGroups[g]!));

    // Every stream, page by page.
    let listed = 0;
    let after: number | undefined;
    do {
      const page = await client.listStreamsPage({ after, limit: 1000 });
      assert.ok(page.streams.length <= 1000);
      for (const s of page.streams) {
        assert.equal(s.ackedOffset, 3 * RECORDS_PER_PUSH - 1, s.nodeId);
      }
      listed += page.streams.length;
      after = page.next;
    } while (after !== undefined);
    assert.equal(listed, DEVICES);

    // Every record, device by device: exactly once, in order.
    const seen: number[][] = Array.from({ length: DEVICES }, () => []);
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = 0;
      for (;;) {
        const bytes = await client.fetchBatches("fleet", p, {
          offset,
          maxBytes: 1 << 20,
        });
        if (bytes.length === 0) break;
        for (const batch of splitBatches(bytes)) {
          for (const record of (await decodeBatch(batch)).records) {
            if (record.offset < offset) continue;
            const { d, o } = JSON.parse(dec.decode(record.value!));
            assert.equal(dec.decode(record.key!), `d${d}`);
            seen[d]!.push(o);
            offset = record.offset + 1;
          }
        }
      }
    }
    const expected = Array.from({ length: 3 * RECORDS_PER_PUSH }, (_, i) => i);
    seen.forEach((offsets, d) =>
      assert.deepEqual(offsets, expected, `device ${d}`)
    );
  } finally {
    await broker.close();
    const peak = rss.stop();
    await Deno.remove(dataDir, { recursive: true });
    assert.ok(peak < RSS_LIMIT, `peak RSS ${Math.round(peak / 2 ** 20)} MiB`);
  }
});
