import assert from "node:assert/strict";
import mqtt from "mqtt";
import { startGateway } from "../edge/gateway.ts";
import type { GatewayConfig } from "../edge/gateway/config.ts";
import { FaultProxy } from "./fault_proxy.ts";
import { allRecords, startTestBroker, waitFor } from "./sync_harness.ts";

const MOSQUITTO = "/usr/sbin/mosquitto";
const present = await Deno.stat(MOSQUITTO).then(() => true, () => false);
if (!present) {
  console.warn(`skipping MQTT tests: ${MOSQUITTO} is not installed`);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A gateway "gw-mqtt" ingesting plant/+/temp into its topic sensors. */
function mqttGatewayConfig(
  upstream: string,
  dataDir: string,
  mqttUrl: string,
): GatewayConfig {
  return {
    upstream,
    token: undefined,
    nodeId: "gw-mqtt",
    host: "127.0.0.1",
    port: 0,
    dataDir,
    syncTopics: undefined,
    topics: { sensors: { partitions: 1 } },
    syncedRetentionMs: -1,
    mqtt: {
      url: mqttUrl,
      subscriptions: [{ filter: "plant/+/temp", topic: "sensors" }],
      // Retries stay frequent however long the MQTT broker takes to start.
      reconnectMaxMs: 1000,
    },
  };
}

Deno.test({
  name:
    "MQTT QoS 1 messages published while the upstream is offline all arrive once",
  ignore: !present,
  async fn() {
    const port = freePort();
    const mosquitto = new Deno.Command(MOSQUITTO, {
      args: ["-p", String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const broker = await startTestBroker(undefined, {
      topics: { sensors: 1 },
    });
    const proxy = FaultProxy.start(broker.url, { seed: 5 });
    proxy.setOffline(true);
    const dataDir = await Deno.makeTempDir();
    let publisher: mqtt.MqttClient | undefined;
    let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      for (let i = 0; i < 100; i++) {
        try {
          const c = await Deno.connect({ hostname: "127.0.0.1", port });
          c.close();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      gateway = await startGateway(
        mqttGatewayConfig(proxy.url, dataDir, `mqtt://127.0.0.1:${port}`),
      );
      publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      for (let i = 0; i < 50; i++) {
        await publisher.publishAsync(
          `plant/${i % 3}/temp`,
          JSON.stringify({ n: i }),
          { qos: 1 },
        );
      }
      const local = gateway.log.partition("sensors", 0);
      const deadline = Date.now() + 15_000;
      while (local.highWatermark < 50 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(local.highWatermark, 50);
      assert.equal(broker.registry.list("gw-mqtt").length, 0);
      const status = await (await fetch(`${gateway.url}/v1/sync/status`))
        .json();
      assert.equal(status.mqtt.state, "connected");
      assert.equal(status.mqtt.appended, 50);
      assert.equal(status.mqtt.lastError, null);
      assert.deepEqual(status.mqtt.subscriptions, [
        { filter: "plant/+/temp", topic: "sensors" },
      ]);
      proxy.setOffline(false);
      gateway.replicator.notifyOnline();
      while (Date.now() < deadline) {
        const s = broker.registry.list("gw-mqtt")[0];
        if (s?.ackedOffset === 49) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const stream = broker.registry.list("gw-mqtt")[0]!;
      const central = await allRecords(broker.log, "sensors", stream.partition);
      const dec = new TextDecoder();
      assert.deepEqual(
        central.map((r) => JSON.parse(dec.decode(r.value!)).n).sort((a, b) =>
          a - b
        ),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.equal(dec.decode(central[0]!.key!), "plant/0/temp");
    } finally {
      await publisher?.endAsync();
      await gateway?.close();
      await proxy.close();
      await broker.close();
      mosquitto.kill("SIGTERM");
      await mosquitto.status;
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "gateway (issue 9): starts while its MQTT broker is down, reports it, and ingests once the broker comes up",
  ignore: !present,
  async fn() {
    const port = freePort();
    const broker = await startTestBroker(undefined, {
      topics: { sensors: 1 },
    });
    const dataDir = await Deno.makeTempDir();
    let mosquitto: Deno.ChildProcess | undefined;
    let publisher: mqtt.MqttClient | undefined;
    let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      gateway = await startGateway(
        mqttGatewayConfig(
          broker.url,
          dataDir,
          `mqtt://user:pw@127.0.0.1:${port}`,
        ),
      );
      const url = gateway.url;
      const status = async () =>
        (await (await fetch(`${url}/v1/sync/status`)).json()).mqtt;
      await waitFor(
        "a failed MQTT connect",
        async () => (await status()).failures >= 1,
      );
      const down = await status();
      assert.equal(down.state, "connecting");
      assert.equal(down.url, `mqtt://127.0.0.1:${port}`);
      const health = await (await fetch(`${url}/healthz`)).json();
      assert.deepEqual(health, { status: "ok", mqtt: { state: "connecting" } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /edgelog_gateway_mqtt_connected\{[^}]*\} 0/);
      assert.match(
        metrics,
        /edgelog_gateway_mqtt_connection_failures_total\{[^}]*\} [1-9]/,
      );

      mosquitto = new Deno.Command(MOSQUITTO, {
        args: ["-p", String(port)],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitFor(
        "the MQTT connect",
        async () => (await status()).state === "connected",
      );
      publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      for (let i = 0; i < 10; i++) {
        await publisher.publishAsync("plant/1/temp", `{"n":${i}}`, { qos: 1 });
      }
      const local = gateway.log.partition("sensors", 0);
      await waitFor("10 ingested messages", () => local.highWatermark === 10);
      assert.equal((await status()).appended, 10);
      assert.match(
        await (await fetch(`${url}/metrics`)).text(),
        /edgelog_gateway_mqtt_connected\{[^}]*\} 1/,
      );
    } finally {
      await publisher?.endAsync();
      await gateway?.close();
      await broker.close();
      if (mosquitto !== undefined) {
        mosquitto.kill("SIGTERM");
        await mosquitto.status;
      }
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
