/**
 * The console's shared state as signals: the token, whether the node
 * answers, and the current route (kept in step with the URL hash).
 *
 * @module
 */

import { signal } from "@preact/signals";
import { parseHash, type Route } from "./route.ts";

const TOKEN_KEY = "edgelog.token";

function readToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** The bearer token every request sends; "" for none. */
export const token = signal(readToken());

/** Sets the token and remembers it in this browser. */
export function setToken(value: string): void {
  token.value = value.trim();
  try {
    localStorage.setItem(TOKEN_KEY, token.value);
  } catch {
    // Private windows may refuse storage; the token still applies here.
  }
}

/** False once a request could not reach the node; true again on an answer. */
export const reachable = signal(true);

/** Where the console is. */
export const route = signal<Route>(parseHash(location.hash));

addEventListener("hashchange", () => {
  route.value = parseHash(location.hash);
});

/** Moves to `hash` without adding a history entry (the browser's own state). */
export function replaceHash(hash: string): void {
  if (location.hash === hash) return;
  history.replaceState(null, "", hash);
  route.value = parseHash(hash);
}
