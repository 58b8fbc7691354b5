/**
 * The console's frame: the header with the node's health and the token
 * field, the navigation, the unreachable banner, and the page the URL
 * names.
 *
 * @module
 */

import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { DevicePage } from "./device_page.ts";
import { Devices } from "./devices.ts";
import { GroupPage } from "./group_page.ts";
import { Groups } from "./groups.ts";
import { Messages } from "./messages.ts";
import { Overview } from "./overview.ts";
import { Produce } from "./produce.ts";
import { link, type Page } from "./route.ts";
import { reachable, route, setToken, token } from "./state.ts";
import { TopicPage } from "./topic_page.ts";
import { Topics } from "./topics.ts";

const NAV: { label: string; page: Page; also: Page[] }[] = [
  { label: "Overview", page: "overview", also: [] },
  { label: "Topics", page: "topics", also: ["topic"] },
  { label: "Messages", page: "messages", also: [] },
  { label: "Produce", page: "produce", also: [] },
  { label: "Groups", page: "groups", also: ["group"] },
  { label: "Devices", page: "devices", also: ["device"] },
];

/** The token field: applies on every change, kept in this browser. */
function TokenField() {
  const [shown, setShown] = useState(false);
  return html`
    <form class="token" onSubmit=${(e: Event) => e.preventDefault()}>
      <label for="token-input">Token</label>
      <input id="token-input" type=${shown ? "text" : "password"}
        autocomplete="off" spellcheck=${false} placeholder="none"
        value=${token.value}
        onInput=${(e: Event) =>
          setToken((e.target as HTMLInputElement).value)} />
      <button type="button" class="small" aria-pressed=${shown}
        onClick=${() => setShown(!shown)}>${shown ? "Hide" : "Show"}</button>
    </form>
  `;
}

function CurrentPage() {
  const r = route.value;
  const name = r.name;
  switch (r.page) {
    case "topics":
      return html`<${Topics} />`;
    case "topic":
      return name === undefined
        ? html`<${Topics} />`
        : html`<${TopicPage} key=${name} name=${name} />`;
    case "messages":
      return html`<${Messages} route=${r} />`;
    case "produce":
      return html`<${Produce} route=${r} />`;
    case "groups":
      return html`<${Groups} />`;
    case "group":
      return name === undefined
        ? html`<${Groups} />`
        : html`<${GroupPage} key=${name} name=${name} />`;
    case "devices":
      return html`<${Devices} route=${r} />`;
    case "device":
      return name === undefined
        ? html`<${Devices} route=${r} />`
        : html`<${DevicePage} key=${name} name=${name} />`;
    default:
      return html`<${Overview} />`;
  }
}

/** The whole console. */
export function App() {
  const page = route.value.page;
  useEffect(() => {
    const label = NAV.find((n) => n.page === page || n.also.includes(page))
      ?.label ?? "Overview";
    document.title = `${label} · edgelog console`;
  }, [page]);
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href=${link("overview")}>
        <img src="/favicon.svg" alt="" width="22" height="22" /> edgelog
      </a>
      <nav aria-label="Sections">
        <ul>${NAV.map((n) =>
          html`<li><a href=${link(n.page)} aria-current=${
            n.page === page || n.also.includes(page) ? "page" : undefined
          }>${n.label}</a></li>`
        )}</ul>
      </nav>
      <${TokenField} />
    </header>
    ${!reachable.value &&
      html`
        <div class="banner"
          role="alert">The node cannot be reached: it may be down or the network is out. The console keeps trying every few seconds.</div>
      `}
    <main id="main" tabindex="-1">
      <${CurrentPage} />
    </main>
    <footer><a href="/docs">API docs</a> · <a href="/openapi.json">OpenAPI</a></footer>
  `;
}
