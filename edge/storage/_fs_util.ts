/**
 * Small filesystem helpers shared by the storage files.
 *
 * @module
 */

import type { FileHandle } from "node:fs/promises";

/**
 * Fsyncs a directory, making the creation, rename or removal of its entries
 * durable.
 */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/** Writes all of `bytes`, looping over short writes. */
export async function writeAll(
  file: Deno.FsFile,
  bytes: Uint8Array,
): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    at += await file.write(at === 0 ? bytes : bytes.subarray(at));
  }
}

/**
 * Reads exactly `length` bytes at `position` with a positioned read, which
 * leaves the handle's file offset alone, so reads may run concurrently.
 */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const { bytesRead } = await handle.read(
      bytes,
      at,
      length - at,
      position + at,
    );
    if (bytesRead === 0) {
      throw new Error(
        `Cannot read ${length} bytes at ${position}: file ends at ${
          position + at
        }`,
      );
    }
    at += bytesRead;
  }
  return bytes;
}

/** Removes a file, ignoring one that is already gone. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readIfExists(
  path: string,
): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
