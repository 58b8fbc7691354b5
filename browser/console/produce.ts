/**
 * Produce one record: topic, key, partition (or by key), headers, value.
 * A value that is not JSON is refused with the parser's message unless
 * "send as text" is ticked, which sends its UTF-8 bytes as they are.
 *
 * @module
 */

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api, topicPath } from "./api.ts";
import { useResource } from "./hooks.ts";
import { buildRecord, type Header } from "./produce_record.ts";
import { link, type Route } from "./route.ts";
import { Empty, ErrorNote } from "./ui.ts";

/** The produce page. */
export function Produce({ route }: { route: Route }) {
  const topics = useResource(
    async (signal) =>
      (await api<{ topics: { name: string; partitions: number }[] }>(
        "/v1/topics",
        { signal },
      )).topics.sort((a, b) => (a.name < b.name ? -1 : 1)),
    [],
  );
  const topic = route.name ?? topics.data?.[0]?.name ?? "";
  const partitions = topics.data?.find((t) => t.name === topic)?.partitions ??
    1;
  const [key, setKey] = useState("");
  const [partition, setPartition] = useState("");
  const [headers, setHeaders] = useState<Header[]>([]);
  const [value, setValue] = useState("");
  const [asText, setAsText] = useState(false);
  const [problem, setProblem] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState<{ partition: number; offset: number }>();
  const setHeader = (i: number, h: Header) =>
    setHeaders(headers.map((old, j) => (j === i ? h : old)));

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSent(undefined);
    const built = buildRecord({ key, partition, headers, value, asText });
    if ("error" in built) {
      setProblem(built.error);
      return;
    }
    setProblem("");
    try {
      const answer = await api<{
        offsets: { partition: number; offset: number }[];
      }>(topicPath(topic, "/records"), {
        method: "POST",
        json: { records: [built.record] },
      });
      setSent(answer.offsets[0]);
    } catch (err) {
      setError(err);
    }
  };
  const input = (set: (v: string) => void) => (e: Event) =>
    set((e.target as HTMLInputElement).value);

  return html`<section aria-labelledby="produce-title">
    <h1 id="produce-title">Produce</h1>
    <${ErrorNote} error=${topics.error} what="list topics" />
    ${
    topics.data?.length === 0 &&
    html`<${Empty}>No topics yet: <a href=${
      link("topics")
    }>create one</a> first.</${Empty}>`
  }
    <form class="card form" onSubmit=${submit} aria-label="Record to produce">
      <div class="fields">
        <label>Topic <select value=${topic} onChange=${(e: Event) => {
    location.hash = link("produce", (e.target as HTMLSelectElement).value);
  }}>${
    (topics.data ?? []).map((t) =>
      html`<option value=${t.name}>${t.name}</option>`
    )
  }</select></label>
        <label>Key <input value=${key} onInput=${
    input(setKey)
  } placeholder="none" /></label>
        <label>Partition <select value=${partition} onChange=${
    input(setPartition)
  }>
          <option value="">by key (or sticky without a key)</option>
          ${
    Array.from(
      { length: partitions },
      (_, i) => html`<option value=${String(i)}>${i}</option>`,
    )
  }
        </select></label>
      </div>
      <fieldset>
        <legend>Headers</legend>
        ${
    headers.map((h, i) =>
      html`
        <div class="row header-row">
          <label>Name <input value=${h.name} onInput=${(e: Event) =>
            setHeader(i, {
              ...h,
              name: (e.target as HTMLInputElement).value,
            })} /></label>
          <label>Value <input value=${h.value} onInput=${(e: Event) =>
            setHeader(i, {
              ...h,
              value: (e.target as HTMLInputElement).value,
            })} /></label>
          <button type="button" class="small" aria-label=${`Remove header ${
            i + 1
          }`}
            onClick=${() =>
              setHeaders(headers.filter((_, j) => j !== i))}>Remove</button>
        </div>
      `
    )
  }
        <button type="button" class="small" onClick=${() =>
    setHeaders([...headers, { name: "", value: "" }])}>Add header</button>
      </fieldset>
      <label class="block">Value <textarea rows="6" value=${value}
        onInput=${input(setValue)} placeholder='{"t": 21.5}'></textarea></label>
      <label class="check"><input type="checkbox" checked=${asText}
        onChange=${(e: Event) =>
    setAsText(
      (e.target as HTMLInputElement).checked,
    )} /> Send as text (the bytes as typed, not JSON)</label>
      <button type="submit" disabled=${topic === ""}>Produce record</button>
      ${problem && html`<p class="error" role="alert">${problem}</p>`}
      <${ErrorNote} error=${error} what=${`produce to topic ${topic}`} />
      ${
    sent && html`
      <p class="ok"
        role="status">Written to partition ${sent.partition} at offset ${sent
          .offset}.
              <a href=${link("messages", topic, {
                p: sent.partition,
                from: "offset",
                offset: sent.offset,
              })}>Show it</a></p>
    `
  }
    </form>
  </section>`;
}
