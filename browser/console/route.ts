/**
 * Deep links: the console's state lives in the URL hash, so a link names
 * the page, the topic, group or device, and where the message browser
 * stands (`#/messages/orders?p=0&from=offset&offset=12`).
 *
 * @module
 */

/** The console's pages. */
export const PAGES = [
  "overview",
  "topics",
  "topic",
  "messages",
  "produce",
  "groups",
  "group",
  "devices",
  "device",
] as const;

/** One page of the console. */
export type Page = typeof PAGES[number];

/** Where the console is. */
export interface Route {
  page: Page;
  /** The topic, group or device the page is about. */
  name?: string;
  params: Record<string, string>;
}

/** The route a hash names; an unknown or empty hash is the overview. */
export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const cut = text.indexOf("?");
  const path = cut < 0 ? text : text.slice(0, cut);
  const query = cut < 0 ? "" : text.slice(cut + 1);
  const [head = "", ...rest] = path.split("/");
  const page = (PAGES as readonly string[]).includes(head)
    ? head as Page
    : "overview";
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  const route: Route = { page, params };
  if (page !== "overview" && rest.length > 0 && rest.join("/") !== "") {
    try {
      route.name = decodeURIComponent(rest.join("/"));
    } catch {
      return { page: "overview", params: {} };
    }
  }
  return route;
}

/** The hash of a route. */
export function formatHash(route: Route): string {
  let hash = `#/${route.page}`;
  if (route.name !== undefined) hash += `/${encodeURIComponent(route.name)}`;
  const query = new URLSearchParams(route.params).toString();
  return query === "" ? hash : `${hash}?${query}`;
}

/** A hash for a link to `page` about `name`, with `params`. */
export function link(
  page: Page,
  name?: string,
  params: Record<string, string | number> = {},
): string {
  const route: Route = {
    page,
    params: Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, String(v)]),
    ),
  };
  if (name !== undefined) route.name = name;
  return formatHash(route);
}
