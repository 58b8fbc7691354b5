/**
 * The message browser: a topic, one partition or all, a start (earliest,
 * latest, an offset, a date-time), pages forward and back, filters by key
 * and by value (substring or JSON path), and the live tail below. The URL
 * names all of it, so a link opens the same page.
 *
 * @module
 */

import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, topicPath } from "./api.ts";
import { useNow, useResource } from "./hooks.ts";
import {
  type Bounds,
  formatPositions,
  parsePositions,
  type Positions,
  previousPositions,
  readPage,
  type RecordPage,
  type Start,
  startPositions,
} from "./pages.ts";
import { RecordCard } from "./record_card.ts";
import {
  parseValueFilter,
  type ValueFilter,
  type ViewMode,
} from "./record_value.ts";
import { link, type Route } from "./route.ts";
import { replaceHash } from "./state.ts";
import { LiveTail } from "./tail.ts";
import type { TopicDescription } from "./types.ts";
import { Empty, ErrorNote, Loading } from "./ui.ts";

const MODES: ViewMode[] = ["auto", "json", "text", "hex"];
const SIZES = [10, 20, 50, 100];

function startOf(params: Record<string, string>): Start {
  switch (params.from) {
    case "earliest":
      return { from: "earliest" };
    case "offset":
      return { from: "offset", offset: Number(params.offset ?? 0) || 0 };
    case "time": {
      const timestamp = new Date(params.time ?? "").getTime();
      return Number.isFinite(timestamp)
        ? { from: "time", timestamp }
        : { from: "latest" };
    }
    default:
      return { from: "latest" };
  }
}

function filterOf(text: string): { filter: ValueFilter; error?: string } {
  try {
    return { filter: parseValueFilter(text) };
  } catch (err) {
    return { filter: { kind: "none" }, error: (err as Error).message };
  }
}

/** The form that picks what to browse; it changes the URL, which loads. */
function BrowseForm(
  { route, topics, partitions }: {
    route: Route;
    topics: string[];
    partitions: number;
  },
) {
  const p = route.params;
  const [from, setFrom] = useState(p.from ?? "latest");
  useEffect(() => setFrom(p.from ?? "latest"), [p.from]);
  const submit = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const params: Record<string, string> = {};
    for (const [k, v] of data) {
      if (typeof v === "string" && v !== "" && k !== "topic") params[k] = v;
    }
    if (params.from !== "offset") delete params.offset;
    if (params.from !== "time") delete params.time;
    location.hash = link("messages", String(data.get("topic")), params);
  };
  return html`
    <form class="card form browse" onSubmit=${submit} aria-label="What to browse">
      <div class="fields">
          <label>Topic <select name="topic" value=${route.name} onChange=${(
            e: Event,
          ) => {
            location.hash = link(
              "messages",
              (e.target as HTMLSelectElement).value,
            );
          }}>${topics.map((t) =>
            html`<option value=${t}>${t}</option>`
          )}</select></label>
          <label>Partition <select name="p" value=${p.p ?? ""}>
            <option value="">all</option>
            ${Array.from(
              { length: partitions },
              (_, i) => html`<option value=${String(i)}>${i}</option>`,
            )}
          </select></label>
          <label>Start at <select name="from" value=${from} onChange=${(
            e: Event,
          ) => setFrom((e.target as HTMLSelectElement).value)}>
            <option value="latest">latest</option>
            <option value="earliest">earliest</option>
            <option value="offset">an offset</option>
            <option value="time">a date-time</option>
          </select></label>
          ${from === "offset" &&
            html`<label>Offset <input name="offset" type="number" min="0" required
        value=${p.offset ?? "0"} /></label>`}
          ${from === "time" &&
            html`<label>Date-time (local) <input name="time" type="datetime-local" step="1"
        required value=${p.time ?? ""} /></label>`}
          <label>Per page <select name="size" value=${p.size ?? "20"}>${SIZES
            .map((n) =>
              html`<option value=${String(n)}>${n}</option>`
            )}</select></label>
          <label>Key contains <input name="key" value=${p.key ?? ""} /></label>
          <label>Value filter <input name="q" value=${p.q ?? ""}
            placeholder='text, or $.path == "value"' /></label>
          <label>Show values as <select name="view" value=${p.view ??
            "auto"}>${MODES.map((m) =>
              html`<option value=${m}>${m}</option>`
            )}</select></label>
        </div>
      <button type="submit">Show records</button>
    </form>
  `;
}

/** The message browser page. */
export function Messages({ route }: { route: Route }) {
  const topics = useResource(
    async (signal) =>
      (await api<{ topics: { name: string }[] }>("/v1/topics", { signal }))
        .topics.map((t) => t.name).sort(),
    [],
    0,
  );
  const topic = route.name ?? topics.data?.[0];
  const described = useResource(
    (signal) =>
      topic === undefined
        ? Promise.resolve(undefined)
        : api<TopicDescription>(topicPath(topic), { signal }),
    [topic],
    0,
  );
  const params = route.params;
  const size = Number(params.size) || 20;
  const mode = (MODES as string[]).includes(params.view ?? "")
    ? params.view as ViewMode
    : "auto";
  const keyFilter = params.key ?? "";
  const { filter, error: filterError } = filterOf(params.q ?? "");
  const partition = params.p === undefined || params.p === ""
    ? null
    : Number(params.p);
  const bounds: Bounds[] = (described.data?.partitions ?? []).filter((b) =>
    partition === null || b.partition === partition
  );
  const [page, setPage] = useState<RecordPage | undefined>(undefined);
  const [positions, setPositions] = useState<Positions | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [refresh, setRefresh] = useState(0);
  const back = useRef<Positions[]>([]);
  const now = useNow();
  const key = JSON.stringify({ topic, params, parts: bounds.length });

  useEffect(() => {
    if (topic === undefined || bounds.length === 0) return;
    const abort = new AbortController();
    (async () => {
      const linked = params.pos === undefined
        ? undefined
        : parsePositions(params.pos);
      const at = linked ??
        await startPositions(topic, bounds, startOf(params), size);
      const result = await readPage(
        topic,
        at,
        size,
        { key: keyFilter, value: filter },
        abort.signal,
      );
      setPositions(at);
      setPage(result);
      setError(undefined);
    })().catch((err) => {
      if ((err as Error).name !== "AbortError") setError(err);
    });
    return () => abort.abort();
  }, [key, refresh]);

  // A page at the end of the log grows as records arrive: read it again.
  useEffect(() => {
    if (!page?.atEnd || page.records.length >= size) return;
    const timer = setTimeout(() => setRefresh((n) => n + 1), 3000);
    return () => clearTimeout(timer);
  }, [page]);

  const go = (to: Positions) => {
    replaceHash(link("messages", topic, {
      ...params,
      pos: formatPositions(to),
    }));
  };
  const next = () => {
    if (!page || !positions) return;
    back.current.push(positions);
    go(page.next);
  };
  const previous = () => {
    if (!positions) return;
    go(back.current.pop() ?? previousPositions(positions, bounds, size));
  };
  const atStart = positions !== undefined &&
    bounds.every((b) => (positions[b.partition] ?? 0) <= b.logStartOffset);

  return html`<section aria-labelledby="messages-title">
    <h1 id="messages-title">Messages${topic ? html`: ${topic}` : ""}</h1>
    <${ErrorNote} error=${topics.error} what="list topics" />
    ${
    topics.data?.length === 0 &&
    html`<${Empty}>No topics yet: <a href=${
      link("topics")
    }>create one</a>, then <a href=${
      link("produce")
    }>produce</a> to it.</${Empty}>`
  }
    ${
    topic !== undefined && html`
      <${BrowseForm} route=${{ ...route, name: topic }} topics=${topics.data ??
        [topic]} partitions=${described.data?.partitions.length ?? 0} />
      <${ErrorNote} error=${described.error} what=${`read topic ${topic}`} />
      ${filterError && html`<p class="error" role="alert">${filterError}</p>`}
      <${ErrorNote} error=${error} what=${`read topic ${topic}`} />
      <nav class="pager" aria-label="Record pages">
        <button type="button" onClick=${previous}
          disabled=${!page || atStart}>← Previous page</button>
        <span class="muted" role="status">${page
          ? `${page.records.length} record(s)${
            page.scanned > page.records.length
              ? ` of ${page.scanned} scanned`
              : ""
          }${page.atEnd ? " · end of log" : ""}`
          : ""}</span>
        <button type="button" onClick=${next}
          disabled=${!page || page.atEnd}>Next page →</button>
      </nav>
      ${!page && !error ? html`<${Loading} />` : page?.records.length === 0 &&
        html`<${Empty}>No records here${
          keyFilter || filter.kind !== "none" ? " pass the filters" : ""
        }. Start at “earliest”, or <a href=${
          link("produce", topic)
        }>produce one</a>.</${Empty}>`}
      <div class="records">${page?.records.map((r) =>
        html`
          <${RecordCard} key=${`${r.partition}/${r.offset}`} record=${r}
            topic=${topic} mode=${mode} now=${now} />
        `
      )}</div>
      <${LiveTail} topic=${topic} partition=${partition} keyFilter=${keyFilter}
        filter=${filter} mode=${mode} />
    `
  }
  </section>`;
}
