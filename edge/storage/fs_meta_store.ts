/**
 * The metadata area on the filesystem: one JSON file per key. A value is
 * written to a temporary file, fsynced, renamed over the old one and the
 * directory fsynced, so a crash leaves either the old or the new value.
 *
 * Every entry is loaded at open and served from memory: the area holds a
 * few hundred values at most (topic configs, committed offsets, chunks of
 * sync streams). Each is kept as its file's text, and the value parsed at
 * open is handed to the first reader, so opening a large area parses each
 * file once (the sync registry of 100 000 streams reads 8 MB of it).
 *
 * @module
 */

import { EdgelogError } from "../../runtime/errors.ts";
import type { MetaStore } from "../../runtime/log/storage.ts";
import { removeIfExists, syncDir, writeAll } from "./_fs_util.ts";

/** Longest file name stem before a key is shortened and hashed. */
const MAX_STEM = 160;
const encoder = new TextEncoder();

/**
 * A file name stem for `key` that is safe on every filesystem: lower-case
 * letters, digits, `.`, `_` and `-` as they are, every other UTF-8 byte as
 * `%XX`. Long keys keep a prefix and gain a SHA-256 suffix. The file holds
 * the key itself, so the name never has to be decoded.
 */
export async function metaFileStem(key: string): Promise<string> {
  let stem = "";
  for (const byte of encoder.encode(key)) {
    const char = String.fromCharCode(byte);
    stem += /[a-z0-9._-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (stem.length <= MAX_STEM) return stem;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", encoder.encode(key)),
  );
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${stem.slice(0, MAX_STEM - 65)}~${hex}`;
}

/**
 * Runs a directory fsync for each caller, sharing one fsync among the
 * callers that arrive while another is under way.
 */
class DirSyncer {
  #path: string;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  sync(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    this.#next ??= this.#running.catch(() => {}).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<void> {
    const running = syncDir(this.#path).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}

/** A {@linkcode MetaStore} keeping one file per key under `dir`. */
export class FsMetaStore implements MetaStore {
  #dir: string;
  /** Key → its file's JSON text `{key, value}`: each get parses a fresh copy. */
  #entries: Map<string, string>;
  /** Values parsed at open that no reader has had yet. */
  #unread: Map<string, unknown>;
  /** Key → the tail of its chain of writes, which run in call order. */
  #writes = new Map<string, Promise<void>>();
  #dirSyncer: DirSyncer;
  #tmpCounter = 0;

  private constructor(
    dir: string,
    entries: Map<string, string>,
    unread: Map<string, unknown>,
  ) {
    this.#dir = dir;
    this.#entries = entries;
    this.#unread = unread;
    this.#dirSyncer = new DirSyncer(dir);
  }

  /**
   * Opens the area in `dir`, creating it when absent, loading every entry
   * and removing temporary files a crash left behind.
   */
  static async open(dir: string): Promise<FsMetaStore> {
    await Deno.mkdir(dir, { recursive: true });
    const entries = new Map<string, string>();
    const unread = new Map<string, unknown>();
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.name.endsWith(".tmp")) {
        await removeIfExists(path);
        continue;
      }
      if (!entry.name.endsWith(".json")) continue;
      const text = await Deno.readTextFile(path);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (
        typeof parsed !== "object" || parsed === null ||
        !("key" in parsed) || typeof parsed.key !== "string"
      ) {
        throw new EdgelogError(
          "INTERNAL",
          `Meta file ${path} does not hold a {key, value} JSON object`,
        );
      }
      const value = "value" in parsed ? parsed.value : undefined;
      if (value !== undefined) {
        entries.set(parsed.key, text);
        unread.set(parsed.key, value);
      }
    }
    return new FsMetaStore(dir, entries, unread);
  }

  get(key: string): Promise<unknown | undefined> {
    return Promise.resolve(this.#read(key));
  }

  #read(key: string): unknown | undefined {
    const fresh = this.#unread.get(key);
    if (fresh !== undefined) {
      this.#unread.delete(key);
      return fresh;
    }
    const text = this.#entries.get(key);
    return text === undefined ? undefined : JSON.parse(text).value;
  }

  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined) return await this.delete(key);
    if (typeof value === "function" || typeof value === "symbol") {
      throw new TypeError(
        `Cannot store a ${typeof value} under meta key '${key}'`,
      );
    }
    const fileText = JSON.stringify({ key, value });
    await this.#chain(key, async () => {
      const path = `${this.#dir}/${await metaFileStem(key)}.json`;
      const tmp = `${path}.${this.#tmpCounter++}.tmp`;
      const file = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
      });
      try {
        await writeAll(file, encoder.encode(fileText));
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(tmp, path);
      await this.#dirSyncer.sync();
      this.#unread.delete(key);
      this.#entries.set(key, fileText);
    });
  }

  delete(key: string): Promise<void> {
    return this.#chain(key, async () => {
      await removeIfExists(`${this.#dir}/${await metaFileStem(key)}.json`);
      await this.#dirSyncer.sync();
      this.#unread.delete(key);
      this.#entries.delete(key);
    });
  }

  list(prefix: string): Promise<[string, unknown][]> {
    const keys = [...this.#entries.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(keys.map((key) => [key, this.#read(key)]));
  }

  /** Waits for every write under way. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()]);
  }

  #chain(key: string, write: () => Promise<void>): Promise<void> {
    const previous = this.#writes.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(write);
    const tail = next.catch(() => {});
    this.#writes.set(key, tail);
    tail.then(() => {
      if (this.#writes.get(key) === tail) this.#writes.delete(key);
    });
    return next;
  }
}
