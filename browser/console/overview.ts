/**
 * The overview: is the node up, what is it, what does it hold, and how
 * many records go in and out per second (a live chart of the last minutes).
 *
 * @module
 */

import { html } from "htm/preact";
import { api, request } from "./api.ts";
import { LineChart } from "./chart.ts";
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
} from "./format.ts";
import { useResource } from "./hooks.ts";
import { link } from "./route.ts";
import type { BrokerInfo, BrokerRates } from "./types.ts";
import { ErrorNote, Loading, Stat } from "./ui.ts";

/** Seconds of the chart. */
const CHART_SECONDS = 300;

/** The overview page. */
export function Overview() {
  const health = useResource(async (signal) => {
    const res = await request("/healthz", { signal });
    return (await res.json() as { status: string }).status;
  }, []);
  const info = useResource(
    (signal) => api<BrokerInfo>("/v1/broker", { signal }),
    [],
  );
  const rates = useResource(
    (signal) => api<BrokerRates>("/v1/broker/rates", { signal }),
    [],
    2000,
  );
  const b = info.data;
  const series = rates.data?.series;
  const last = (values: number[] | undefined) => values?.at(-1) ?? 0;
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${ErrorNote} error=${info.error} what="read the node's overview" />
    ${
    !b && !info.error ? html`<${Loading} />` : b && html`
      <div class="stats">
        <${Stat} label="Health" value=${health.data ?? "unknown"}
          tone=${health.data === "ok" ? "good" : "bad"} />
        <${Stat} label="Role" value=${b.role} />
        <${Stat} label="Version" value=${b.version} />
        <${Stat} label="Uptime" value=${formatDuration(b.uptimeMs)} />
        <${Stat} label="Storage used" value=${formatBytes(
          b.storage.usedBytes,
        )} />
        <${Stat} label="Disk free" value=${formatBytes(b.storage.freeBytes)} />
        <${Stat} label="Fsync" value=${b.fsync} />
        <${Stat} label="Auth" value=${b.auth ? "on (tokens)" : "off (open)"}
          tone=${b.auth ? "good" : "bad"} />
      </div>
      <h2>Counts</h2>
      <div class="stats">
            <${Stat} label="Topics" value=${html`<a href=${link("topics")}>${
              formatCount(b.counts.topics)
            }</a>`} />
            <${Stat} label="Partitions" value=${formatCount(
              b.counts.partitions,
            )} />
            <${Stat} label="Records held" value=${formatCount(
              b.counts.records,
            )} />
            <${Stat} label="Groups" value=${html`<a href=${link("groups")}>${
              formatCount(b.counts.groups)
            }</a>`} />
            ${b.sync && html`
              <${Stat} label="Devices" value=${html`<a href=${
                link("devices")
              }>${formatCount(b.sync.devices)}</a>`} />
              <${Stat} label="Sync streams" value=${formatCount(
                b.sync.streams,
              )} />
              <${Stat} label=${`Devices silent > ${
                formatDuration(b.sync.silentAfterMs)
              }`} value=${html`<a href=${
                link("devices", undefined, { silent: 1 })
              }>${
                formatCount(b.sync.silentDevices)
              }</a>`} tone=${b.sync.silentDevices > 0 ? "bad" : "good"} />
              <${Stat} label="Devices lagging" value=${html`<a href=${
                link("devices", undefined, { lagging: 1 })
              }>${
                formatCount(b.sync.laggingDevices)
              }</a>`} tone=${b.sync.laggingDevices > 0 ? "bad" : "good"} />
            `}
          </div>
    `
  }
    <h2>Records per second</h2>
    <${ErrorNote} error=${rates.error} what="read the node's rates" />
    ${
    series && html`
      <p class="muted">
              Now: ${formatRate(last(series.in))} in, ${formatRate(
                last(series.out),
              )} out per second (last ${CHART_SECONDS / 60} minutes below).
            </p>
      <${LineChart} label="Records in and out per second over the last minutes"
        times=${series.t.slice(-CHART_SECONDS)}
        lines=${[
          {
            label: "in",
            color: "--chart-1",
            values: series.in.slice(-CHART_SECONDS),
          },
          {
            label: "out",
            color: "--chart-2",
            values: series.out.slice(-CHART_SECONDS),
          },
        ]} />
    `
  }
  </section>`;
}
