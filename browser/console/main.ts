/**
 * The web console's entry: renders the app into the page's `#app`.
 *
 * @module
 */

import { render } from "preact";
import { html } from "htm/preact";
import { App } from "./app.ts";

render(html`<${App} />`, document.getElementById("app")!);
