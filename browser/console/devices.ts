/**
 * The device fleet: every sync stream with its node, topic, partitions,
 * records behind, dropped records, last seen (flagged when silent past the
 * node's threshold) and push rate; sortable, filterable and paged, since a
 * fleet runs to thousands. On a gateway, its own upstream sits on top.
 *
 * @module
 */

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "./api.ts";
import {
  type FleetQuery,
  isSilent,
  selectRows,
  type SortKey,
  type StreamRow,
} from "./fleet.ts";
import {
  formatAgo,
  formatCount,
  formatDuration,
  formatRate,
} from "./format.ts";
import { History } from "./history.ts";
import { useNow, useResource } from "./hooks.ts";
import { link, type Route } from "./route.ts";
import { replaceHash } from "./state.ts";
import type { BrokerInfo } from "./types.ts";
import { Cell, Empty, ErrorNote, Loading, Pager } from "./ui.ts";
import { Upstream, type UpstreamStatus } from "./upstream.ts";

const PAGE_SIZE = 50;
/** Streams asked for per request (the node's largest page). */
const STREAMS_PAGE = 10_000;
/** Used until the node says its own threshold. */
const DEFAULT_SILENT_MS = 60_000;

/** Acked offsets of every stream, for push rates; few samples each. */
export const ackedHistory = new History(10);

/** The streams, or null on a node that serves none (404). */
export async function loadStreams(
  signal: AbortSignal,
  nodeId?: string,
): Promise<StreamRow[] | null> {
  // The node answers in pages; follow them to the end.
  const streams: StreamRow[] = [];
  let after: number | undefined;
  try {
    do {
      const query = new URLSearchParams({ limit: String(STREAMS_PAGE) });
      if (nodeId !== undefined) query.set("nodeId", nodeId);
      if (after !== undefined) query.set("after", String(after));
      const page = await api<{ streams: StreamRow[]; next?: number }>(
        `/v1/sync/streams?${query}`,
        { signal },
      );
      streams.push(...page.streams);
      after = page.next;
    } while (after !== undefined);
    const now = Date.now();
    for (const s of streams) {
      ackedHistory.add(String(s.producerId), now, s.ackedOffset);
    }
    return streams;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** What the node says about itself (once), or undefined until it answers. */
export function useNodeInfo(): BrokerInfo | undefined {
  return useResource(
    (signal) => api<BrokerInfo>("/v1/broker", { signal }),
    [],
    0,
  ).data;
}

/** The silence threshold the node states, or the default. */
export function silentAfter(info: BrokerInfo | undefined): number {
  return info?.sync?.silentAfterMs ?? DEFAULT_SILENT_MS;
}

/** The push rate of a stream in records per second, as text. */
export function pushRate(row: StreamRow): string {
  const rate = ackedHistory.ratePerSecond(String(row.producerId));
  return rate === undefined ? "measuring" : `${formatRate(rate)}/s`;
}

/** The stream table, shared with the device page. */
export function StreamTable(
  { rows, now, silentAfterMs, sortBy }: {
    rows: StreamRow[];
    now: number;
    silentAfterMs: number;
    sortBy?: (key: SortKey) => void;
  },
) {
  const head = (label: string, key?: SortKey) =>
    html`<th scope="col">${
      key && sortBy
        ? html`<button type="button" class="link" onClick=${() =>
          sortBy(key)}>${label}</button>`
        : label
    }</th>`;
  return html`
    <table class="rows">
      <caption class="sr-only">Sync streams</caption>
      <thead>
        <tr>${head("Device", "nodeId")}${head("Topic", "topic")}
          ${head("Source p.")}${head("Central p.")}${head(
            "Records behind",
            "lagRecords",
          )}
          ${head("Dropped", "droppedRecords")}${head(
            "Last seen",
            "lastSeenMs",
          )}${head("Push rate")}</tr>
      </thead>
      <tbody>${rows.map((s) => {
        const silent = isSilent(s, now, silentAfterMs);
        return html`
          <tr key=${s.producerId} class=${silent ? "silent" : ""}>
            <${Cell} label="Device"><a href=${link("device", s.nodeId)}>${s
              .nodeId}</a></${Cell}>
                  <${Cell} label="Topic">${s.topic}</${Cell}>
                  <${Cell} label="Source p.">${s.sourcePartition}</${Cell}>
                  <${Cell} label="Central p.">${s.partition}</${Cell}>
                  <${Cell} label="Records behind">${s.lagRecords ===
                        undefined || s.lagRecords === null
                    ? "not reported"
                    : formatCount(s.lagRecords)}</${Cell}>
                  <${Cell} label="Dropped">${formatCount(
                    s.droppedRecords,
                  )}</${Cell}>
                  <${Cell} label="Last seen">${formatAgo(
                    s.lastSeenMs,
                    now,
                  )}${silent && html`
                    <span class="badge bad">silent</span>
                  `}</${Cell}>
                  <${Cell} label="Push rate">${pushRate(s)}</${Cell}>
                </tr>
        `;
      })}</tbody>
    </table>
  `;
}

/** The devices page. */
export function Devices({ route }: { route: Route }) {
  // A broker serves device streams; a gateway syncs its own upstream.
  const node = useNodeInfo();
  const role = node?.role;
  const streams = useResource(
    (signal) =>
      role === "gateway"
        ? Promise.resolve(null)
        : role === undefined
        ? Promise.resolve(undefined)
        : loadStreams(signal),
    [role],
    5000,
  );
  const status = useResource(
    (signal) =>
      role === "gateway"
        ? api<UpstreamStatus>("/v1/sync/status", { signal })
        : Promise.resolve(null),
    [role],
  );
  const silentAfterMs = silentAfter(node);
  const now = useNow();
  const p = route.params;
  const query: FleetQuery = {
    text: p.q ?? "",
    silentOnly: p.silent === "1",
    laggingOnly: p.lagging === "1",
    sort: (p.sort ?? "nodeId") as SortKey,
    descending: p.desc === "1",
  };
  const [page, setPage] = useState(0);
  const set = (change: Record<string, string | undefined>) => {
    const params: Record<string, string> = { ...p };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined || v === "") delete params[k];
      else params[k] = v;
    }
    setPage(0);
    replaceHash(link("devices", undefined, params));
  };
  const rows = streams.data
    ? selectRows(streams.data, query, now, silentAfterMs)
    : [];
  return html`<section aria-labelledby="devices-title">
    <h1 id="devices-title">Devices</h1>
    ${
    role !== "gateway" &&
    html`
      <p
        class="muted">A device is flagged <span class="badge bad">silent</span> when none of its streams pushed for ${formatDuration(
          silentAfterMs,
        )}.</p>
    `
  }
    <${ErrorNote} error=${status.error} what="read this node's sync status" />
    ${status.data && html`<${Upstream} status=${status.data} now=${now} />`}
    <${ErrorNote} error=${streams.error} what="list sync streams" />
    ${
    streams.data === undefined
      ? !streams.error && html`<${Loading} />`
      : streams.data === null
      ? html`<${Empty}>This node serves no device streams${
        status.data ? ": it is a gateway, and its own sync is above" : ""
      }.</${Empty}>`
      : streams.data.length === 0
      ? html`<${Empty}>No devices have synced yet: point a device or gateway here (<code>deno task gateway --upstream ${location.origin}</code>).</${Empty}>`
      : html`
        <div class="fields filters">
          <label>Filter by device or topic <input type="search" value=${query
            .text}
            onInput=${(e: Event) =>
              set({ q: (e.target as HTMLInputElement).value })} /></label>
          <label class="check"><input type="checkbox" checked=${query
            .silentOnly}
            onChange=${(e: Event) =>
              set({
                silent: (e.target as HTMLInputElement).checked
                  ? "1"
                  : undefined,
              })} /> Only silent</label>
          <label class="check"><input type="checkbox" checked=${query
            .laggingOnly}
            onChange=${(e: Event) =>
              set({
                lagging: (e.target as HTMLInputElement).checked
                  ? "1"
                  : undefined,
              })} /> Only lagging</label>
        </div>
        <p class="muted" role="status">${rows.length} of ${streams.data
          .length} streams${` · ${
          streams.data.filter((s) => isSilent(s, now, silentAfterMs)).length
        } silent`}</p>
        <${StreamTable} rows=${rows.slice(
          page * PAGE_SIZE,
          (page + 1) * PAGE_SIZE,
        )} now=${now}
          silentAfterMs=${silentAfterMs} sortBy=${(key: SortKey) => set({
            sort: key,
            desc: key === query.sort && !query.descending ? "1" : undefined,
          })} />
        <${Pager} page=${page} size=${PAGE_SIZE} total=${rows.length}
          onPage=${setPage} />
      `
  }
  </section>`;
}
