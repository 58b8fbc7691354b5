/**
 * The HTML pages a node serves to people: the web console at `/` and the
 * API docs at `/docs`. They are browser code, so they live here and the
 * server takes them as an option instead of importing them.
 *
 * @module
 */

import { CONSOLE_HTML } from "./console_page.ts";
import { DOCS_HTML } from "./docs_page.ts";

export { CONSOLE_HTML, DOCS_HTML };

/** Path → HTML of every page, in the shape `createApp`'s `pages` takes. */
export const NODE_PAGES: Readonly<Record<string, string>> = {
  "/": CONSOLE_HTML,
  "/docs": DOCS_HTML,
};
