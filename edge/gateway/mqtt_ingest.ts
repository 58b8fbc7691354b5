/**
 * MQTT ingest: the gateway subscribes to topic filters on a local MQTT
 * broker and appends each message to an edgelog topic (key = MQTT topic,
 * value = payload). QoS 1 messages are acknowledged (PUBACK) only once the
 * append is durable, so a crash before that makes the MQTT broker resend.
 *
 * The MQTT broker may be down when the gateway starts or go away later: the
 * ingest never fails the gateway for it. It reconnects with capped,
 * jittered backoff, subscribes on every connect, and reports its state
 * (see {@linkcode MqttStatus}) for /v1/sync/status, /healthz and /metrics.
 *
 * @module
 */

import mqtt from "mqtt";
import type { Log } from "../../runtime/log/mod.ts";
import { escapeLabel as label } from "../../runtime/server/metrics.ts";
import { backoffDelay } from "../../runtime/sync/backoff.ts";
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

/** Where the ingest stands with its MQTT broker. */
export interface MqttStatus {
  url: string;
  /** "connecting" until the first connect, "disconnected" after a loss. */
  state: "connecting" | "connected" | "disconnected";
  /** Messages appended so far. */
  appended: number;
  /** Connection attempts that failed or were lost, since start. */
  failures: number;
  /** The latest connection error, null once connected again. */
  lastError: string | null;
  /** When the last connect succeeded (ms since epoch), null before. */
  lastConnectedMs: number | null;
}

/** A running ingest. */
export interface MqttIngest {
  /** Messages appended so far. */
  readonly appended: number;
  status(): MqttStatus;
  close(): Promise<void>;
}

/** Options of {@linkcode startMqttIngest}. */
export interface MqttIngestOptions {
  url: string;
  subscriptions: MqttSubscription[];
  clientId: string;
  /** Reconnect delays: from baseMs doubling to maxMs; default 500 ms → 30 s. */
  reconnect?: { baseMs?: number; maxMs?: number };
  /** Jitter of the reconnect delays; default Math.random. */
  random?: () => number;
  /** Default Date.now. */
  now?: () => number;
}

/**
 * Starts ingesting the subscriptions of `options.url` into `log` and
 * returns at once; the connection comes up (and comes back) in the
 * background. A persistent session (clean: false) keeps QoS 1 messages
 * queued while the gateway is away.
 */
export function startMqttIngest(
  log: Log,
  options: MqttIngestOptions,
): MqttIngest {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const delay = (attempt: number) =>
    backoffDelay(attempt, {
      baseMs: options.reconnect?.baseMs ?? 500,
      maxMs: options.reconnect?.maxMs ?? 30_000,
      random,
    });
  const status: MqttStatus = {
    url: withoutCredentials(options.url),
    state: "connecting",
    appended: 0,
    failures: 0,
    lastError: null,
    lastConnectedMs: null,
  };
  let attempt = 0;
  let closing = false;
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    clean: false,
    reconnectPeriod: delay(attempt),
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
      status.appended++;
      callback();
    }, (err) => {
      console.error(
        `edgelog gateway: cannot append MQTT message from ${topic}`,
        err,
      );
      callback(err);
    });
  };
  client.on("connect", () => {
    if (status.state !== "connected" && status.failures > 0) {
      console.log(`edgelog gateway: MQTT connected to ${status.url}`);
    }
    status.state = "connected";
    status.lastError = null;
    status.lastConnectedMs = now();
    attempt = 0;
    client.options.reconnectPeriod = delay(attempt);
    client.subscribe(
      options.subscriptions.map((s) => s.filter),
      { qos: 1 },
      (err) => {
        if (err) status.lastError = `subscribe failed: ${err.message}`;
      },
    );
  });
  // Without an error listener mqtt.js throws connection errors (such as
  // ECONNREFUSED while the MQTT broker is not up) out of its event loop.
  client.on("error", (err) => {
    status.lastError = err.message;
  });
  client.on("close", () => {
    if (closing) return;
    const wasConnected = status.state === "connected";
    if (wasConnected || status.failures === 0) {
      console.error(
        `edgelog gateway: MQTT broker ${status.url} is not reachable${
          status.lastError === null ? "" : ` (${status.lastError})`
        }; retrying with backoff`,
      );
    }
    status.failures++;
    if (status.state === "connected") status.state = "disconnected";
    attempt++;
    client.options.reconnectPeriod = delay(attempt);
  });
  return {
    get appended() {
      return status.appended;
    },
    status: () => ({ ...status }),
    async close() {
      closing = true;
      await client.endAsync(true);
    },
  };
}

/** `url` without a user name or password, fit for status and logs. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparsable MQTT URL)";
  }
}

/** The Prometheus text of an ingest's status. */
export function renderMqttMetrics(status: MqttStatus): string {
  const url = `url="${label(status.url)}"`;
  return [
    "# HELP edgelog_gateway_mqtt_connected 1 while the MQTT broker is connected",
    "# TYPE edgelog_gateway_mqtt_connected gauge",
    `edgelog_gateway_mqtt_connected{${url}} ${
      status.state === "connected" ? 1 : 0
    }`,
    "# HELP edgelog_gateway_mqtt_messages_total MQTT messages appended",
    "# TYPE edgelog_gateway_mqtt_messages_total counter",
    `edgelog_gateway_mqtt_messages_total{${url}} ${status.appended}`,
    "# HELP edgelog_gateway_mqtt_connection_failures_total MQTT connection attempts failed or lost",
    "# TYPE edgelog_gateway_mqtt_connection_failures_total counter",
    `edgelog_gateway_mqtt_connection_failures_total{${url}} ${status.failures}`,
  ].join("\n") + "\n";
}
