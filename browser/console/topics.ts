/**
 * Topics: the list with records, size, retention, policy and rates; search
 * by name; create; delete after a confirmation.
 *
 * @module
 */

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api, topicPath } from "./api.ts";
import {
  formatBytes,
  formatCount,
  formatRate,
  formatRetention,
} from "./format.ts";
import { useResource } from "./hooks.ts";
import { link } from "./route.ts";
import type { TopicSummary } from "./types.ts";
import { Cell, Confirm, Empty, ErrorNote, Loading, Pager } from "./ui.ts";

const PAGE_SIZE = 50;

/** The create-topic form. */
function CreateTopic({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("1");
  const [retentionHours, setRetentionHours] = useState("");
  const [retentionMiB, setRetentionMiB] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone("");
    const body: Record<string, unknown> = {
      name: name.trim(),
      partitions: Number(partitions),
    };
    if (retentionHours !== "") {
      body.retentionMs = Math.round(Number(retentionHours) * 3_600_000);
    }
    if (retentionMiB !== "") {
      body.retentionBytes = Math.round(Number(retentionMiB) * 1024 * 1024);
    }
    try {
      await api("/v1/topics", { method: "POST", json: body });
      setDone(`Created topic ${name.trim()}.`);
      setName("");
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="create-topic">
    <h2 id="create-topic">Create a topic</h2>
    <div class="fields">
      <label>Name <input required pattern="[A-Za-z0-9._\\-]{1,249}" value=${name}
        onInput=${(e: Event) =>
    setName((e.target as HTMLInputElement).value)} /></label>
      <label>Partitions <input type="number" min="1" max="10000" required value=${partitions}
        onInput=${(e: Event) =>
    setPartitions((e.target as HTMLInputElement).value)} /></label>
      <label>Retention, hours <input type="number" min="0" step="any" placeholder="default"
        value=${retentionHours} onInput=${(e: Event) =>
    setRetentionHours((e.target as HTMLInputElement).value)} /></label>
      <label>Retention, MiB per partition <input type="number" min="0" step="any"
        placeholder="default" value=${retentionMiB} onInput=${(e: Event) =>
    setRetentionMiB((e.target as HTMLInputElement).value)} /></label>
    </div>
    <button type="submit">Create topic</button>
    <${ErrorNote} error=${error} what="create topics (it needs an admin token)" />
    ${done && html`<p class="ok" role="status">${done}</p>`}
  </form>`;
}

/** The topics page. */
export function Topics() {
  const topics = useResource(
    async (signal) =>
      (await api<{ topics: TopicSummary[] }>("/v1/broker/topics", { signal }))
        .topics,
    [],
  );
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(0);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<unknown>(undefined);
  const shown = (topics.data ?? []).filter((t) =>
    t.name.toLowerCase().includes(query.trim().toLowerCase())
  );
  const pageRows = shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const remove = async () => {
    const name = deleting;
    setDeleting(null);
    if (name === null) return;
    try {
      await api(topicPath(name), { method: "DELETE" });
      setDeleteError(undefined);
      topics.reload();
    } catch (err) {
      setDeleteError(err);
    }
  };
  return html`<section aria-labelledby="topics-title">
    <h1 id="topics-title">Topics</h1>
    <${ErrorNote} error=${topics.error} what="list topics" />
    <${ErrorNote} error=${deleteError} what="delete topics (it needs an admin token)" />
    <label class="search">Search topics <input type="search" value=${query}
      onInput=${(e: Event) => {
    setQuery((e.target as HTMLInputElement).value);
    setPage(0);
  }} /></label>
    ${
    topics.data === undefined && !topics.error
      ? html`<${Loading} />`
      : topics.data?.length === 0
      ? html`<${Empty}>No topics yet: create one below, or produce to a name and the node creates it when auto-create is on.</${Empty}>`
      : shown.length === 0 && topics.data
      ? html`<${Empty}>No topic name contains “${query}”.</${Empty}>`
      : topics.data && html`
        <table class="rows">
          <caption class="sr-only">Topics</caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col">Partitions</th>
              <th scope="col">Records</th>
              <th scope="col">Size</th>
              <th scope="col">Retention</th>
              <th scope="col">Cleanup</th>
              <th scope="col">In/s</th>
              <th scope="col">Out/s</th>
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>${pageRows.map((t) =>
            html`
              <tr key=${t.name}>
                <${Cell} label="Topic"><a href=${link("topic", t.name)}>${t
                  .name}</a></${Cell}>
                      <${Cell} label="Partitions">${t.partitions}</${Cell}>
                      <${Cell} label="Records">${formatCount(
                        t.records,
                      )}</${Cell}>
                      <${Cell} label="Size">${formatBytes(
                        t.sizeBytes,
                      )}</${Cell}>
                      <${Cell} label="Retention">${formatRetention(
                        t.retentionMs,
                        t.retentionBytes,
                      )}</${Cell}>
                      <${Cell} label="Cleanup">${t.cleanupPolicy}</${Cell}>
                      <${Cell} label="In/s">${formatRate(t.inPerSec)}</${Cell}>
                      <${Cell} label="Out/s">${formatRate(
                        t.outPerSec,
                      )}</${Cell}>
                      <${Cell} label="Actions" class="actions">
                        <a href=${link("messages", t.name)}>Messages</a>
                        <button type="button" class="danger small" aria-label=${`Delete topic ${t.name}`}
                          onClick=${() => setDeleting(t.name)}>Delete</button>
                      </${Cell}>
                    </tr>
            `
          )}</tbody>
        </table>
        <${Pager} page=${page} size=${PAGE_SIZE} total=${shown.length}
          onPage=${setPage} />
      `
  }
    <${CreateTopic} onCreated=${topics.reload} />
    <${Confirm} open=${deleting !== null} title="Delete this topic?"
      action="Delete topic" onConfirm=${remove} onCancel=${() =>
    setDeleting(null)}>
      <p>Topic <strong>${deleting}</strong> and every record in it will be deleted. This cannot be undone.</p>
    </${Confirm}>
  </section>`;
}
