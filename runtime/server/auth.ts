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
  /** Binds the token to one device: it may sync only this node's streams. */
  nodeId?: string;
}

/** One configured token. */
export interface TokenConfig {
  token: string;
  rights: TokenRights;
}

/** The auth settings of a server; no tokens = open. */
export interface AuthConfig {
  tokens: readonly TokenConfig[];
}

/** The caller of a request: its rights, or `"open"` when auth is off. */
export type Principal = TokenRights | "open";

/** A right a route needs. */
export type Access =
  | { kind: "admin" }
  | { kind: "produce"; topic: string }
  | { kind: "consume"; topic: string }
  /** Registering or pushing a sync stream of `nodeId` into `topic`. */
  | { kind: "sync"; nodeId: string; topic?: string }
  /** Any valid token: listing topics and groups. */
  | { kind: "read" };

/** Context variables set by the auth middleware. */
export interface AuthVariables {
  principal: Principal;
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
  if (!authEnabled(config)) return "open";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) {
    throw new EdgelogError(
      "UNAUTHORIZED",
      "Missing bearer token: send 'Authorization: Bearer <token>'",
    );
  }
  const presented = match[1] ?? "";
  const found = config?.tokens.find((t) => sameToken(t.token, presented));
  if (!found) throw new EdgelogError("UNAUTHORIZED", "Unknown token");
  return found.rights;
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
    case "read":
      return true;
    case "produce":
      return covers(principal.produce, access.topic);
    case "consume":
      return covers(principal.consume, access.topic);
    case "sync":
      if (principal.nodeId !== undefined) {
        if (principal.nodeId !== access.nodeId) return false;
        // A node-bound token without a produce list may sync any topic.
        return principal.produce === undefined || access.topic === undefined ||
          covers(principal.produce, access.topic);
      }
      return access.topic !== undefined &&
        covers(principal.produce, access.topic);
  }
}

function describe(access: Access): string {
  switch (access.kind) {
    case "admin":
      return "admin rights";
    case "read":
      return "a valid token";
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
    c.set("principal", authenticate(config, c.req.header("authorization")));
    await next();
  };
}

/**
 * Throws FORBIDDEN unless the caller of `c` holds `access`. Routes mounted
 * through `extraRoutes` (sync) call it with `{ kind: "sync", nodeId }`.
 */
export function authorize(c: Context, access: Access): void {
  const principal = c.get("principal") as Principal | undefined;
  if (principal === undefined) {
    throw new Error("authorize() needs the auth middleware on this route");
  }
  if (!allows(principal, access)) {
    throw new EdgelogError(
      "FORBIDDEN",
      `This token lacks ${describe(access)}`,
    );
  }
}
