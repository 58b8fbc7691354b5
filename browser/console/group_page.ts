/**
 * One consumer group: per partition the committed offset, high watermark,
 * lag and owner; its members; its total lag over time; resetting its
 * offsets and deleting it, both only while it has no active members.
 *
 * @module
 */

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api, groupPath } from "./api.ts";
import { LineChart } from "./chart.ts";
import { formatCount } from "./format.ts";
import { History } from "./history.ts";
import { useResource } from "./hooks.ts";
import { link } from "./route.ts";
import type { GroupDetail } from "./types.ts";
import { Cell, Confirm, ErrorNote, Loading } from "./ui.ts";

const lagHistory = new History();

/** The reset form of an empty group. */
function ResetOffsets(
  { group, topics, empty, onDone }: {
    group: string;
    topics: string[];
    empty: boolean;
    onDone: () => void;
  },
) {
  const [to, setTo] = useState("earliest");
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone("");
    const data = new FormData(e.target as HTMLFormElement);
    const body: Record<string, unknown> = { to };
    const topic = String(data.get("topic") ?? "");
    if (topic !== "") body.topic = topic;
    if (to === "offset") body.offset = Number(data.get("offset"));
    if (to === "timestamp") {
      body.timestamp = new Date(String(data.get("time"))).getTime();
    }
    try {
      const answer = await api<{ offsets: unknown[] }>(
        groupPath(group, "/offsets/reset"),
        { method: "POST", json: body },
      );
      setDone(`Moved ${answer.offsets.length} partition(s).`);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="reset-title">
    <h2 id="reset-title">Reset offsets</h2>
    ${
    !empty &&
    html`
      <p
        class="muted">Only a group with no active members can be reset: stop its consumers first.</p>
    `
  }
    <div class="fields">
      <label>To <select name="to" value=${to} onChange=${(e: Event) =>
    setTo((e.target as HTMLSelectElement).value)}>
        <option value="earliest">earliest</option>
        <option value="latest">latest</option>
        <option value="timestamp">a date-time</option>
        <option value="offset">an offset</option>
      </select></label>
      <label>Topic <select name="topic">
        <option value="">every committed topic</option>
        ${topics.map((t) => html`<option value=${t}>${t}</option>`)}
      </select></label>
      ${
    to === "offset" &&
    html`<label>Offset <input name="offset" type="number" min="0" required /></label>`
  }
      ${
    to === "timestamp" &&
    html`<label>Date-time (local) <input name="time" type="datetime-local" step="1" required /></label>`
  }
    </div>
    <button type="submit" disabled=${!empty}>Reset offsets</button>
    <${ErrorNote} error=${error} what=${`reset group ${group} (it needs consume rights on its topics)`} />
    ${done && html`<p class="ok" role="status">${done}</p>`}
  </form>`;
}

/** The page of group `name`. */
export function GroupPage({ name }: { name: string }) {
  const group = useResource(async (signal) => {
    const detail = await api<GroupDetail>(groupPath(name), { signal });
    lagHistory.add(
      name,
      Date.now(),
      detail.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
    );
    return detail;
  }, [name]);
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(undefined);
  const g = group.data;
  const empty = g !== undefined && g.members.length === 0;
  const samples = lagHistory.get(name);
  const remove = async () => {
    setConfirming(false);
    try {
      await api(groupPath(name), { method: "DELETE" });
      location.hash = link("groups");
    } catch (err) {
      setDeleteError(err);
    }
  };
  return html`<section aria-labelledby="group-title">
    <p class="crumbs"><a href=${link("groups")}>Consumer groups</a> /</p>
    <h1 id="group-title">${name}</h1>
    <${ErrorNote} error=${group.error} what=${`read group ${name}`} />
    ${
    !g ? !group.error && html`<${Loading} />` : html`
      <p>State <strong>${g.state}</strong> · ${g.members
        .length} member(s) · total lag
        <strong data-testid="total-lag">${formatCount(
          samples.values.at(-1) ?? 0,
        )}</strong></p>
      <h2>Partitions</h2>
      <table class="rows">
        <caption class="sr-only">Partitions of group ${name}</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">Partition</th>
            <th scope="col">Committed</th>
            <th scope="col">High watermark</th>
            <th scope="col">Lag</th>
            <th scope="col">Owner</th>
          </tr>
        </thead>
        <tbody>${g.partitions.map((p) =>
          html`
            <tr key=${`${p.topic}/${p.partition}`}>
              <${Cell} label="Topic"><a href=${link("topic", p.topic)}>${p
                .topic}</a></${Cell}>
                    <${Cell} label="Partition">${p.partition}</${Cell}>
                    <${Cell} label="Committed">${p.offset === null
                      ? "none"
                      : formatCount(p.offset)}</${Cell}>
                    <${Cell} label="High watermark">${formatCount(
                      p.highWatermark,
                    )}</${Cell}>
                    <${Cell} label="Lag">${p.lag === null
                      ? "–"
                      : formatCount(p.lag)}</${Cell}>
                    <${Cell} label="Owner"><code>${p.memberId ??
                      "none"}</code></${Cell}>
                  </tr>
          `
        )}</tbody>
      </table>
      <h2>Members</h2>
      ${g.members.length === 0
        ? html`<p class="muted">No active members.</p>`
        : html`<ul>${
          g.members.map((m) =>
            html`<li><code>${m.memberId}</code> (epoch ${
              m.memberEpoch ?? "?"
            }): ${
              (m.assignment ?? []).map((a) =>
                `${a.topic}[${a.partitions.join(",")}]`
              ).join(" ") || "nothing assigned"
            }</li>`
          )
        }</ul>`}
      <h2>Lag over time</h2>
      <p class="muted">Sampled on every refresh while this console is open.</p>
      <${LineChart} label=${`Total lag of group ${name} over time`}
        times=${samples.times} lines=${[
          { label: "total lag", color: "--chart-1", values: samples.values },
        ]} />
      <${ResetOffsets} group=${name} empty=${empty}
        topics=${[...new Set(g.partitions.map((p) => p.topic))]} onDone=${group
          .reload} />
      <section class="card" aria-labelledby="delete-group-title">
        <h2 id="delete-group-title">Delete group</h2>
        <p
          class="muted">Deletes the group's committed offsets. Only a group with no active members can be deleted.</p>
        <button type="button" class="danger" disabled=${!empty}
          onClick=${() => setConfirming(true)}>Delete group</button>
        <${ErrorNote} error=${deleteError} what=${`delete group ${name} (it needs an admin token)`} />
      </section>
      <${Confirm} open=${confirming} title="Delete this group?" action="Delete group"
        onConfirm=${remove} onCancel=${() => setConfirming(false)}>
        <p>Group <strong>${name}</strong> and its committed offsets will be deleted.</p>
        </${Confirm}>
    `
  }
  </section>`;
}
