/**
 * MQTT ingest: the gateway subscribes to topic filters on a local MQTT
 * broker and appends each message to an edgelog topic (key = MQTT topic,
 * value = payload). QoS 1 messages are acknowledged (PUBACK) only once the
 * append is durable, so a crash before that makes the MQTT broker resend.
 *
 * @module
 */

import mqtt from "mqtt";
import type { Log } from "../../runtime/log/mod.ts";
import type { MqttSubscription } from "./config.ts";

/** Whether an MQTT topic matches a filter with + and # wildcards. */
export function matchesFilter(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A running ingest. */
export interface MqttIngest {
  /** Messages appended so far. */
  readonly appended: number;
  /** Whether the broker connection is up now (it reconnects by itself). */
  readonly connected: boolean;
  close(): Promise<void>;
}

/**
 * Connects to `url` and ingests the subscriptions into `log`. A persistent
 * session (clean: false) keeps QoS 1 messages queued while the gateway is
 * down.
 */
export async function startMqttIngest(
  log: Log,
  options: { url: string; subscriptions: MqttSubscription[]; clientId: string },
): Promise<MqttIngest> {
  let appended = 0;
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    clean: false,
    reconnectPeriod: 1000,
  });
  // mqtt.js sends the PUBACK of a QoS 1 message only after this callback.
  client.handleMessage = (packet, callback) => {
    const topic = packet.topic;
    const subscription = options.subscriptions.find((s) =>
      matchesFilter(s.filter, topic)
    );
    if (subscription === undefined) return callback();
    log.produce(subscription.topic, [{
      key: new TextEncoder().encode(topic),
      value: new Uint8Array(packet.payload as Uint8Array),
    }]).then(() => {
      appended++;
      callback();
    }, (err) => {
      console.error(
        `edgelog gateway: cannot append MQTT message from ${topic}`,
        err,
      );
      callback(err);
    });
  };
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync(
    options.subscriptions.map((s) => s.filter),
    { qos: 1 },
  );
  return {
    get appended() {
      return appended;
    },
    get connected() {
      return client.connected;
    },
    async close() {
      await client.endAsync();
    },
  };
}
