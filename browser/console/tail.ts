/**
 * The live tail: new records of a topic as they arrive, over the topic's
 * Server-Sent Events stream read with fetch (so the token can be sent),
 * pausable without losing what arrives meanwhile.
 *
 * @module
 */

import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { request, topicPath } from "./api.ts";
import { useNow } from "./hooks.ts";
import { RecordCard } from "./record_card.ts";
import {
  type ApiRecord,
  matches,
  type ValueFilter,
  type ViewMode,
} from "./record_value.ts";
import { token } from "./state.ts";
import { ErrorNote } from "./ui.ts";

/** Records the tail keeps on screen. */
const KEEP = 200;

/** Calls `onRecord` for each record of the stream until `signal` aborts. */
async function readStream(
  topic: string,
  signal: AbortSignal,
  onRecord: (record: ApiRecord) => void,
): Promise<void> {
  const res = await request(topicPath(topic, "/stream?from=latest"), {
    accept: "text/event-stream",
    signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = event.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart()).join("\n");
      if (data === "") continue;
      try {
        onRecord(JSON.parse(data) as ApiRecord);
      } catch {
        // Not a record (a comment or keep-alive): nothing to show.
      }
    }
  }
}

/** The live tail of `topic`, filtered like the browser. */
export function LiveTail(
  { topic, partition, keyFilter, filter, mode }: {
    topic: string;
    partition: number | null;
    keyFilter: string;
    filter: ValueFilter;
    mode: ViewMode;
  },
) {
  const [running, setRunning] = useState(false);
  const [paused, setPaused] = useState(false);
  const [records, setRecords] = useState<ApiRecord[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const pending = useRef<ApiRecord[]>([]);
  const pausedRef = useRef(false);
  const [waiting, setWaiting] = useState(0);
  const now = useNow();
  const currentToken = token.value;

  useEffect(() => {
    if (!running) return;
    const abort = new AbortController();
    setError(undefined);
    readStream(topic, abort.signal, (record) => {
      if (pausedRef.current) {
        pending.current.push(record);
        if (pending.current.length > KEEP) pending.current.shift();
        setWaiting(pending.current.length);
        return;
      }
      setRecords((list) => [record, ...list].slice(0, KEEP));
    }).catch((err) => {
      if ((err as Error).name !== "AbortError") setError(err);
    });
    return () => abort.abort();
  }, [running, topic, currentToken]);

  const togglePause = () => {
    const next = !paused;
    pausedRef.current = next;
    setPaused(next);
    if (!next) {
      const arrived = pending.current.reverse();
      pending.current = [];
      setWaiting(0);
      setRecords((list) => [...arrived, ...list].slice(0, KEEP));
    }
  };
  const shown = records.filter((r) =>
    (partition === null || r.partition === partition) &&
    matches(r, keyFilter, filter)
  );
  return html`<section class="card" aria-labelledby="tail-title">
    <h2 id="tail-title">Live tail</h2>
    <div class="row">
      <button type="button" onClick=${() => {
    setRunning(!running);
    pausedRef.current = false;
    setPaused(false);
    pending.current = [];
    setWaiting(0);
  }}>${running ? "Stop tail" : "Start live tail"}</button>
      ${
    running &&
    html`<button type="button" onClick=${togglePause}>${
      paused ? `Resume (${waiting} waiting)` : "Pause"
    }</button>`
  }
      <span class="muted" role="status">${
    running ? (paused ? "Paused" : "Tailing: new records appear on top") : ""
  }</span>
    </div>
    <${ErrorNote} error=${error} what=${`read topic ${topic}`} />
    ${
    running && shown.length === 0 &&
    html`
      <p
        class="empty">No new records yet${records.length > 0
          ? " that pass the filters"
          : ""}: produce one and it appears here.</p>
    `
  }
    <div class="records">${
    shown.map((r) =>
      html`
        <${RecordCard} key=${`${r.partition}/${r.offset}`} record=${r}
          topic=${topic} mode=${mode} now=${now} />
      `
    )
  }</div>
  </section>`;
}
