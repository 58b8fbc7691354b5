/**
 * The Kafka mirror of a broker process against a real Kafka, with a TCP
 * fault proxy between them and kill -9 of the broker in every round, while
 * producers keep writing over HTTP: Produce requests held back until the
 * restarted broker has asked Kafka where to resume (the late append a crash
 * leaves in a slow network), Kafka's answers held back, a connection cut in
 * the middle of a request. Afterwards Kafka, read with kcat, must hold
 * exactly edgelog's records, in order, each at the Kafka offset the mirror
 * promises (here its edgelog offset). The seed is printed;
 * `EDGELOG_SEED=n` replays one.
 */

import assert from "node:assert/strict";
import { startBroker } from "../broker_process.ts";
import { kafkaUnavailable } from "./kafka_process.ts";
import {
  createTopic,
  kcatUnavailable,
  mirrorSetup,
  produceLoop,
  readEdgelog,
  readKafka,
  sleep,
  waitMirror,
} from "./mirror_check.ts";

const TOPIC = "crash";
const PARTITIONS = 3;
/** Late request, held answers, cut request, late request again. */
const ROUNDS = ["late", "answers", "cut", "late"] as const;

const unavailable = await kafkaUnavailable() ?? await kcatUnavailable();
if (unavailable) {
  console.warn(`kafka_mirror_crash_test skipped: ${unavailable}`);
}

/** Waits (bounded, 20 s) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await sleep(50);
  assert.ok(done(), "the fault caught no traffic in 20 s");
}

Deno.test({
  name:
    "kafka mirror crash: late requests from killed brokers, held answers and cut requests leave Kafka exactly edgelog's records at the promised offsets",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { random, proxy, kafka, dir, config, close } = await mirrorSetup(
      "kafka_mirror_crash_test",
      TOPIC,
      "dedicated",
    );
    const dataDir = `${dir}/data`;
    const start = () => startBroker({ dataDir, args: ["--config", config] });
    let broker = await start();
    try {
      await createTopic(broker.url, TOPIC, PARTITIONS);
      let sent = 0;
      const producers = produceLoop(TOPIC, 3, (id) => {
        const count = 1 + Math.floor(random() * 12);
        const partition = Math.floor(random() * PARTITIONS);
        const records = Array.from({ length: count }, () => ({
          key: `w${id}`,
          value: `v-${id}-${sent++}`,
          partition,
        }));
        return { url: broker.url, records };
      }, () => random() * 15);
      for (const fault of ROUNDS) {
        await sleep(300 + random() * 700);
        const { stats } = proxy;
        const before = { ...stats };
        if (fault === "late") proxy.holdRequests();
        if (fault === "answers") proxy.holdAnswers();
        if (fault === "cut") proxy.cutMidRequest();
        // The fault must have caught some traffic before the kill.
        await until(() =>
          stats.heldRequestBytes > before.heldRequestBytes ||
          stats.heldAnswerBytes > before.heldAnswerBytes ||
          stats.cuts > before.cuts
        );
        await sleep(random() * 250);
        await broker.kill9();
        broker = await start();
        // The new process has read Kafka's end offsets before what the
        // dead one sent arrives.
        await waitMirror(
          broker,
          TOPIC,
          PARTITIONS,
          (m) => m.state === "mirroring",
          "resumed",
        );
        proxy.release();
      }
      await sleep(500);
      await producers.stop();
      await waitMirror(
        broker,
        TOPIC,
        PARTITIONS,
        (m) => m.state === "mirroring" && m.lag === 0,
        "caught up",
      );
      assert.ok(proxy.stats.lateRequestBytes > 0, JSON.stringify(proxy.stats));
      assert.ok(proxy.stats.heldAnswerBytes > 0, JSON.stringify(proxy.stats));
      assert.equal(proxy.stats.cuts, 1);
      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      assert.match(
        metrics,
        /edgelog_kafka_mirror_state\{topic="crash",partition="0",state="mirroring"\} 1/,
      );
      assert.match(
        metrics,
        /edgelog_kafka_mirror_lag\{topic="crash",partition="0"\} 0/,
      );
      assert.equal(await broker.stop(), 0);

      const expected = await readEdgelog(dataDir, TOPIC, PARTITIONS);
      const seen = await readKafka(kafka.bootstrap, TOPIC);
      assert.ok(expected.length > 100, `only ${expected.length} records`);
      assert.equal(seen.length, expected.length);
      assert.deepEqual(seen, expected);
    } finally {
      await broker[Symbol.asyncDispose]();
      await close();
    }
  },
});
