/**
 * One device: its sync streams and how its acked offsets moved while the
 * console was open.
 *
 * @module
 */

import { html } from "htm/preact";
import { LineChart } from "./chart.ts";
import {
  ackedHistory,
  loadStreams,
  silentAfter,
  StreamTable,
  useNodeInfo,
} from "./devices.ts";
import { useNow, useResource } from "./hooks.ts";
import { link } from "./route.ts";
import { Empty, ErrorNote, Loading } from "./ui.ts";

/** The page of device `name`. */
export function DevicePage({ name }: { name: string }) {
  const streams = useResource((signal) => loadStreams(signal, name), [name]);
  const silentAfterMs = silentAfter(useNodeInfo());
  const now = useNow();
  const rows = streams.data ?? [];
  return html`<section aria-labelledby="device-title">
    <p class="crumbs"><a href=${link("devices")}>Devices</a> /</p>
    <h1 id="device-title">${name}</h1>
    <${ErrorNote} error=${streams.error} what=${`read the streams of device ${name}`} />
    ${
    streams.data === undefined
      ? !streams.error && html`<${Loading} />`
      : rows.length === 0
      ? html`<${Empty}>No streams of this device: it has not synced to this node.</${Empty}>`
      : html`
        <${StreamTable} rows=${rows} now=${now} silentAfterMs=${silentAfterMs} />
              <h2>History</h2>
              <p
          class="muted">Acked offsets, sampled on every refresh while this console is open.</p>
              ${rows.map((s) => {
                const h = ackedHistory.get(String(s.producerId));
                return html`
                  <${LineChart} key=${s.producerId}
                    label=${`Acked offset of ${s.topic} partition ${s.sourcePartition} over time`}
                    times=${h.times} lines=${[{
                      label: `${s.topic}/${s.sourcePartition} acked offset`,
                      color: "--chart-1",
                      values: h.values,
                    }]} height=${120} />
                `;
              })}
      `
  }
  </section>`;
}
