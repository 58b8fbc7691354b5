/**
 * Browser storage quota: how much the origin uses and may use, whether its
 * storage is persistent, and the translation of a quota failure into
 * `STORAGE_FULL`. The adapter only reports a full quota; what to do about it
 * (reject, drop the oldest records) is the log's policy.
 *
 * @module
 */

import { EdgelogError } from "../runtime/errors.ts";

/** The part of `navigator.storage` (StorageManager) this module uses. */
export interface StorageManagerLike {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

/** What the browser says about the origin's storage. */
export interface QuotaStatus {
  /** Bytes the origin uses, or null when the browser does not say. */
  usage: number | null;
  /** Bytes the origin may use, or null when the browser does not say. */
  quota: number | null;
  /** Whether the browser will not evict the origin's data under pressure. */
  persisted: boolean | null;
}

/** Where to find the StorageManager: the injected one, else the global one. */
export interface QuotaOptions {
  /** Defaults to `navigator.storage` where it exists. */
  storage?: StorageManagerLike;
}

function storageManager(
  options: QuotaOptions,
): StorageManagerLike | undefined {
  if (options.storage) return options.storage;
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } })
    .navigator;
  return nav?.storage;
}

/**
 * Reads usage, quota and persistence. Each field is null where the browser
 * (or the runtime, such as Deno) lacks the API or refuses to answer.
 */
export async function quotaStatus(
  options: QuotaOptions = {},
): Promise<QuotaStatus> {
  const storage = storageManager(options);
  const [estimate, persisted] = await Promise.all([
    storage?.estimate?.().catch(() => undefined),
    storage?.persisted?.().catch(() => undefined),
  ]);
  return {
    usage: estimate?.usage ?? null,
    quota: estimate?.quota ?? null,
    persisted: persisted ?? null,
  };
}

/**
 * Asks the browser to keep the origin's storage through storage pressure,
 * so that an unsynced log is not evicted. Resolves false when the browser
 * says no or has no such API; it never throws.
 */
export async function requestPersistence(
  options: QuotaOptions = {},
): Promise<boolean> {
  const storage = storageManager(options);
  try {
    return (await storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

/** Whether `error` is the browser's QuotaExceededError. */
export function isQuotaExceeded(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { name?: unknown }).name === "QuotaExceededError";
}

/**
 * Turns a quota failure into `STORAGE_FULL`, naming what could not be
 * written; any other error is returned as it is.
 */
export function storageFullOr(error: unknown, what: string): unknown {
  if (!isQuotaExceeded(error)) return error;
  const detail = (error as { message?: unknown }).message;
  return new EdgelogError(
    "STORAGE_FULL",
    `Cannot store ${what}: the browser's storage quota is exceeded${
      typeof detail === "string" && detail !== "" ? ` (${detail})` : ""
    }`,
  );
}
