/**
 * The HTML pages a node serves to people that are not the console (which
 * is its own front-end in browser/console): the API docs at `/docs`. They
 * are browser code, so they live here and the server takes them as an
 * option instead of importing them.
 *
 * @module
 */

import { DOCS_HTML } from "./docs_page.ts";

export { DOCS_HTML };

/** Path → HTML of every page, in the shape `createApp`'s `pages` takes. */
export const NODE_PAGES: Readonly<Record<string, string>> = {
  "/docs": DOCS_HTML,
};
