/**
 * Many brokers, one Kafka: three broker processes mirror the same topic
 * into one Kafka topic in shared mode, 300 devices spread over them by a
 * hash of the device id (the load balancer's rule), and one broker killed
 * with kill -9 in the middle while a TCP proxy holds back what the brokers
 * sent and what Kafka answered, delivered once the victim has restarted
 * and resumed. Afterwards Kafka, read with
 * kcat, holds every record of the three edgelog logs exactly once, and
 * each device's records in one Kafka partition, in edgelog's order.
 */

import assert from "node:assert/strict";
import { murmur2 } from "../../runtime/format/mod.ts";
import { type BrokerProcess, startBroker } from "../broker_process.ts";
import { kafkaUnavailable } from "./kafka_process.ts";
import * as check from "./mirror_check.ts";

const TOPIC = "fleet";
const PARTITIONS = 4;
const BROKERS = 3;
const DEVICES = 300;

const unavailable = await kafkaUnavailable() ?? await check.kcatUnavailable();
if (unavailable) {
  console.warn(`kafka_mirror_shared_test skipped: ${unavailable}`);
}

/** The load balancer's rule: a device always goes to the same broker. */
function brokerOf(device: string): number {
  return (murmur2(new TextEncoder().encode(device)) & 0x7fffffff) % BROKERS;
}

/** "partition offset key value" rows → per key, its partitions and values in order. */
function streams(
  rows: string[],
): Map<string, { ps: Set<string>; values: string[] }> {
  const byKey = new Map<string, { ps: Set<string>; values: string[] }>();
  for (const row of rows) {
    const [p, , key, value] = row.split(" ");
    let stream = byKey.get(key!);
    if (stream === undefined) {
      stream = { ps: new Set(), values: [] };
      byKey.set(key!, stream);
    }
    stream.ps.add(p!);
    stream.values.push(value!);
  }
  return byKey;
}

Deno.test({
  name:
    "kafka mirror shared: three brokers feed one Kafka topic exactly once, per-device order kept, across a kill -9",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { random, proxy, kafka, dir, config, close } = await check
      .mirrorSetup(
        "kafka_mirror_shared_test",
        TOPIC,
        "shared",
      );
    const dataDirs = Array.from({ length: BROKERS }, (_, i) => `${dir}/b${i}`);
    const start = (i: number) =>
      startBroker({ dataDir: dataDirs[i]!, args: ["--config", config] });
    const brokers: BrokerProcess[] = [];
    try {
      for (let i = 0; i < BROKERS; i++) brokers.push(await start(i));
      for (const b of brokers) {
        await check.createTopic(b.url, TOPIC, PARTITIONS);
      }
      const counters = new Array<number>(DEVICES).fill(0);
      let turn = 0;
      const producers = check.produceLoop(TOPIC, 4, () => {
        const d = turn++ % DEVICES;
        const device = `dev-${d}`;
        const count = 1 + Math.floor(random() * 5);
        const records = Array.from({ length: count }, () => ({
          key: device,
          value: `${device}:${counters[d]!++}`,
        }));
        return { url: brokers[brokerOf(device)]!.url, records };
      }, () => random() * 10);
      const turns = async (n: number) => {
        for (let i = 0; i < 1200 && turn < n; i++) await check.sleep(50);
      };
      await turns(DEVICES / 2 + random() * DEVICES);
      // What the brokers send and what Kafka answers is held back, then the
      // victim dies; its restart resumes before its last requests arrive.
      // The proxy cannot tell the brokers' connections apart: the kill is
      // repeated (at most 3 times) until some of the victim's requests were
      // among those held.
      const victim = 1;
      for (
        let kill = 0;
        kill < 3 && proxy.stats.lateRequestBytes === 0;
        kill++
      ) {
        const held = proxy.stats.heldRequestBytes;
        proxy.holdRequests();
        proxy.holdAnswers();
        for (let i = 0; i < 400 && proxy.stats.heldRequestBytes === held; i++) {
          await check.sleep(50);
        }
        await check.sleep(300);
        await brokers[victim]!.kill9();
        brokers[victim] = await start(victim);
        await check.waitMirror(
          brokers[victim]!,
          TOPIC,
          PARTITIONS,
          (m) => m.state === "mirroring",
          "resumed",
        );
        proxy.release();
        await turns(turn + DEVICES / 3);
      }
      await turns(turn + DEVICES);
      await producers.stop();
      for (const b of brokers) {
        await check.waitMirror(
          b,
          TOPIC,
          PARTITIONS,
          (m) => m.state === "mirroring" && m.lag === 0,
          "caught up",
        );
      }
      for (const b of brokers) assert.equal(await b.stop(), 0);
      assert.ok(proxy.stats.lateRequestBytes > 0, JSON.stringify(proxy.stats));

      const edgelog: string[] = [];
      for (const dataDir of dataDirs) {
        edgelog.push(...await check.readEdgelog(dataDir, TOPIC, PARTITIONS));
      }
      const kafkaRows = await check.readKafka(kafka.bootstrap, TOPIC);
      assert.ok(edgelog.length > 200, `only ${edgelog.length} records`);
      const values = (rows: string[]) =>
        rows.map((r) => r.split(" ").slice(2).join(" ")).sort();
      assert.deepEqual(values(kafkaRows), values(edgelog));
      const inKafka = streams(kafkaRows);
      const inEdgelog = streams(edgelog);
      assert.ok(inEdgelog.size === DEVICES, `${inEdgelog.size} devices`);
      for (const [device, stream] of inEdgelog) {
        const seen = inKafka.get(device);
        assert.deepEqual(seen?.ps, stream.ps, `${device}'s partition`);
        assert.deepEqual(seen?.values, stream.values, `${device}'s order`);
      }
    } finally {
      for (const b of brokers) await b[Symbol.asyncDispose]();
      await close();
    }
  },
});
