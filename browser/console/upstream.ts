/**
 * A gateway's own upstream, from `GET /v1/sync/status`: online or not, each
 * synced partition's acked offset, lag in records and bytes, last success
 * and last error (in red, with its time), and the MQTT ingest when there
 * is one.
 *
 * @module
 */

import { html } from "htm/preact";
import { formatAgo, formatBytes, formatCount, formatTime } from "./format.ts";
import { Cell } from "./ui.ts";

/** A synced partition in `GET /v1/sync/status`. */
interface UpstreamStream {
  topic: string;
  sourcePartition: number;
  ackedOffset: number;
  highWatermark: number;
  lagRecords: number;
  lagBytes?: number | null;
  lastSuccessMs: number | null;
  lastError: string | null;
  lastErrorMs?: number | null;
  droppedRecords: number;
  fenced?: boolean;
}

/** `GET /v1/sync/status` on a gateway. */
export interface UpstreamStatus {
  upstream: string;
  online: boolean;
  streams: UpstreamStream[];
  mqtt?: {
    state: "connecting" | "connected" | "disconnected";
    appended: number;
    lastError: string | null;
    subscriptions: { filter: string; topic: string }[];
  };
}

/** The upstream section of a gateway's devices page. */
export function Upstream(
  { status, now }: { status: UpstreamStatus; now: number },
) {
  return html`<section class="card" aria-labelledby="upstream-title">
    <h2 id="upstream-title">This gateway's upstream</h2>
    <p>Syncing to <code>${status.upstream}</code>: <strong class=${
    status.online ? "good" : "bad"
  }>${status.online ? "online" : "offline"}</strong></p>
    ${
    status.streams.length === 0
      ? html`
        <p
          class="empty">Nothing to sync yet: produce to a local topic and it is synced upstream.</p>
      `
      : html`
        <table class="rows">
          <caption class="sr-only">Synced partitions</caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col">Partition</th>
              <th scope="col">Acked</th>
              <th scope="col">Behind</th>
              <th scope="col">Behind (bytes)</th>
              <th scope="col">Dropped</th>
              <th scope="col">Last success</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>${status.streams.map((s) =>
            html`
              <tr key=${`${s.topic}/${s.sourcePartition}`}>
                <${Cell} label="Topic">${s.topic}</${Cell}>
                      <${Cell} label="Partition">${s.sourcePartition}</${Cell}>
                      <${Cell} label="Acked">${s.ackedOffset}</${Cell}>
                      <${Cell} label="Behind">${formatCount(
                        s.lagRecords,
                      )} records</${Cell}>
                      <${Cell} label="Behind (bytes)">${s.lagBytes === null ||
                          s.lagBytes === undefined
                        ? "measuring"
                        : formatBytes(s.lagBytes)}</${Cell}>
                      <${Cell} label="Dropped">${formatCount(
                        s.droppedRecords,
                      )}</${Cell}>
                      <${Cell} label="Last success">${s.lastSuccessMs === null
                        ? "never"
                        : formatAgo(s.lastSuccessMs, now)}</${Cell}>
                      <${Cell} label="Last error">${s.lastError === null
                        ? "none"
                        : html`<span class="error-text">${
                          s.lastErrorMs ? `${formatTime(s.lastErrorMs)}: ` : ""
                        }${s.lastError}${
                          s.fenced ? " (fenced)" : ""
                        }</span>`}</${Cell}>
                    </tr>
            `
          )}</tbody>
        </table>
      `
  }
    ${
    status.mqtt && html`
      <h3>MQTT ingest</h3>
      <p>${status.mqtt.state === "connected"
        ? html`<strong class="good">connected</strong>`
        : html`<strong class="bad">${status.mqtt.state}</strong> (retrying${
          status.mqtt.lastError === null ? "" : `: ${status.mqtt.lastError}`
        })`} · ${formatCount(
          status.mqtt.appended,
        )} messages appended ·
              subscriptions: ${status.mqtt.subscriptions.map((s) =>
                html`
                  <code>${s.filter}</code> → ${s.topic}
                `
              )}</p>
    `
  }
  </section>`;
}
