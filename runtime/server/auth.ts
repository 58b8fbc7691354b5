/**
 * Bearer-token auth. Tokens come from the node's config; with none the node
 * is open. The middleware only authenticates (401); each route then asks
 * {@linkcode authorize} for the right it needs (403), so the rule for a
 * route sits beside the route.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { EdgelogError } from "../errors.ts";

/** What a token may do. Topic lists hold names or `"*"` for every topic. */
export interface TokenRights {
  /** Everything, including creating and deleting topics. */
  admin?: true;
  /** Topics this token may produce to. */
  produce?: readonly string[];
  /** Topics this token may read, and consume with groups. */
  consume?: readonly string[];
  /**
   * Binds the token to one device: it may register, push and list only this
   * node's sync streams. Only such a token or an admin may sync a stream.
   */
  nodeId?: string;
  /** May scrape `/metrics`. */
  metrics?: true;
}

/** One configured token. */
export interface TokenConfig {
  token: string;
  rights: TokenRights;
}

/** The auth settings of a server; no tokens = open. */
export interface AuthConfig {
  tokens: readonly TokenConfig[];
  /** Serve `/metrics` to anyone even with tokens configured. */
  metricsOpen?: boolean;
}

/** The caller of a request: its rights, or `"open"` when auth is off. */
export type Principal = TokenRights | "open";

/**
 * Who sent a request, for what it owns (group members): the configured
 * token's position, never the token itself; `"open"` when auth is off.
 */
export type PrincipalId = string;

/** A right a route needs. */
export type Access =
  | { kind: "admin" }
  | { kind: "produce"; topic: string }
  | { kind: "consume"; topic: string }
  /** Seeing a topic's metadata: produce or consume right on it. */
  | { kind: "describe"; topic: string }
  /** Using consumer groups at all: a consume right on some topic. */
  | { kind: "groups" }
  /** Registering, pushing or listing the sync streams of `nodeId`. */
  | { kind: "sync"; nodeId: string; topic?: string }
  /** Scraping `/metrics`. */
  | { kind: "metrics" };

/** Context variables set by the auth middleware. */
export interface AuthVariables {
  principal: Principal;
  principalId: PrincipalId;
}

/** Whether `config` turns auth on. */
export function authEnabled(config: AuthConfig | undefined): boolean {
  return config !== undefined && config.tokens.length > 0;
}

/**
 * Finds the caller of a request from its Authorization header: `"open"`
 * when auth is off; UNAUTHORIZED for a missing, malformed or unknown token.
 */
export function authenticate(
  config: AuthConfig | undefined,
  authorization: string | undefined,
): Principal {
  return identify(config, authorization).principal;
}

/** {@linkcode authenticate}, with the id of the caller for what it owns. */
export function identify(
  config: AuthConfig | undefined,
  authorization: string | undefined,
): { principal: Principal; id: PrincipalId } {
  if (!authEnabled(config)) return { principal: "open", id: "open" };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) {
    throw new EdgelogError(
      "UNAUTHORIZED",
      "Missing bearer token: send 'Authorization: Bearer <token>'",
    );
  }
  const presented = match[1] ?? "";
  const index = config?.tokens.findIndex((t) => sameToken(t.token, presented));
  const found = index === undefined ? undefined : config?.tokens[index];
  if (!found) throw new EdgelogError("UNAUTHORIZED", "Unknown token");
  return { principal: found.rights, id: `token#${index}` };
}

/** Compares tokens in time independent of where they first differ. */
function sameToken(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return diff === 0;
}

function covers(list: readonly string[] | undefined, topic: string): boolean {
  return list !== undefined && (list.includes("*") || list.includes(topic));
}

/** Whether `principal` holds the right `access`. */
export function allows(principal: Principal, access: Access): boolean {
  if (principal === "open" || principal.admin) return true;
  switch (access.kind) {
    case "admin":
      return false;
    case "produce":
      return covers(principal.produce, access.topic);
    case "consume":
      return covers(principal.consume, access.topic);
    case "describe":
      return covers(principal.produce, access.topic) ||
        covers(principal.consume, access.topic);
    case "groups":
      return (principal.consume?.length ?? 0) > 0;
    case "sync":
      // A stream is a device's: a token bound to no node, whatever it may
      // produce, could otherwise fence the device and push in its name.
      if (principal.nodeId !== access.nodeId) return false;
      // A node-bound token without a produce list may sync any topic.
      return principal.produce === undefined || access.topic === undefined ||
        covers(principal.produce, access.topic);
    case "metrics":
      return principal.metrics === true;
  }
}

/** Whether `principal` is an admin (or auth is off): it sees everything. */
export function isAdmin(principal: Principal): boolean {
  return principal === "open" || principal.admin === true;
}

function describe(access: Access): string {
  switch (access.kind) {
    case "admin":
      return "admin rights";
    case "describe":
      return `a right to produce to or consume '${access.topic}'`;
    case "groups":
      return "a right to consume some topic";
    case "metrics":
      return "the metrics right";
    case "produce":
      return `the right to produce to '${access.topic}'`;
    case "consume":
      return `the right to consume '${access.topic}'`;
    case "sync":
      return `the right to sync node '${access.nodeId}'` +
        (access.topic === undefined ? "" : ` into '${access.topic}'`);
  }
}

/** Middleware that authenticates every request it sees (401 on failure). */
export function authMiddleware(
  config: AuthConfig | undefined,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const { principal, id } = identify(config, c.req.header("authorization"));
    c.set("principal", principal);
    c.set("principalId", id);
    await next();
  };
}

/**
 * Throws FORBIDDEN unless the caller of `c` holds `access`. Routes mounted
 * through `extraRoutes` (sync) call it with `{ kind: "sync", nodeId }`.
 */
export function authorize(c: Context, access: Access): void {
  if (!allows(principalOf(c), access)) {
    throw new EdgelogError(
      "FORBIDDEN",
      `This token lacks ${describe(access)}`,
    );
  }
}

/** The caller of `c`, as the auth middleware found it. */
export function principalOf(c: Context): Principal {
  const principal = c.get("principal") as Principal | undefined;
  if (principal === undefined) {
    throw new Error("auth needs the auth middleware on this route");
  }
  return principal;
}

/** The id of the caller of `c` (see {@linkcode PrincipalId}). */
export function principalIdOf(c: Context): PrincipalId {
  principalOf(c);
  return c.get("principalId") as PrincipalId;
}
