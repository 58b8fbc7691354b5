/**
 * Consumer groups: the list with state, members and total lag.
 *
 * @module
 */

import { html } from "htm/preact";
import { api, groupPath } from "./api.ts";
import { formatCount } from "./format.ts";
import { useResource } from "./hooks.ts";
import { link } from "./route.ts";
import type { GroupSummary } from "./types.ts";
import { Cell, Empty, ErrorNote, Loading } from "./ui.ts";

interface GroupRow extends GroupSummary {
  lag: number;
}

/** The groups page. */
export function Groups() {
  const groups = useResource(async (signal): Promise<GroupRow[]> => {
    const { groups } = await api<{ groups: GroupSummary[] }>("/v1/groups", {
      signal,
    });
    return await Promise.all(groups.map(async (g) => {
      const { offsets } = await api<{ offsets: { lag: number }[] }>(
        groupPath(g.group, "/offsets"),
        { signal },
      );
      return { ...g, lag: offsets.reduce((sum, o) => sum + o.lag, 0) };
    }));
  }, []);
  return html`<section aria-labelledby="groups-title">
    <h1 id="groups-title">Consumer groups</h1>
    <${ErrorNote} error=${groups.error} what="list consumer groups" />
    ${
    groups.data === undefined
      ? !groups.error && html`<${Loading} />`
      : groups.data.length === 0
      ? html`<${Empty}>No consumer groups yet: a group appears when a consumer joins one, e.g. <code>deno task cli consume TOPIC --group NAME</code>.</${Empty}>`
      : html`
        <table class="rows">
          <caption class="sr-only">Consumer groups</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">State</th>
              <th scope="col">Members</th>
              <th scope="col">Total lag</th>
            </tr>
          </thead>
          <tbody>${groups.data.map((g) =>
            html`
              <tr key=${g.group}>
                <${Cell} label="Group"><a href=${link("group", g.group)}>${g
                  .group}</a></${Cell}>
                      <${Cell} label="State">${g.state}</${Cell}>
                      <${Cell} label="Members">${g.members}</${Cell}>
                      <${Cell} label="Total lag">${formatCount(g.lag)}</${Cell}>
                    </tr>
            `
          )}</tbody>
        </table>
      `
  }
  </section>`;
}
