/**
 * Kill -9 in the middle of appends: a child process appends with fsync
 * "always" and reports each acknowledged offset; it is killed at a random
 * moment, and every acknowledged record must then be present and intact,
 * three times over on the same directory.
 */

import assert from "node:assert/strict";
import { FsStorage } from "../edge/storage/mod.ts";
import { checkedOffsets } from "./fixtures/fs_batches.ts";

const CHILD = new URL("./fixtures/fs_append_child.ts", import.meta.url);
const VALUE_BYTES = 64;
const SEGMENT_BYTES = 16384;

function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // It has already exited; the status check below reports how.
  }
}

/**
 * Runs the child until it has acknowledged at least `minAcked` more records,
 * kills it with SIGKILL and returns the highest offset it acknowledged.
 */
async function appendUntilKilled(
  dir: string,
  minAcked: number,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      CHILD.pathname,
      dir,
      String(VALUE_BYTES),
      String(SEGMENT_BYTES),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let highest = -1;
  let first: number | undefined;
  let killed = false;
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream());
    let pending = "";
    for await (const chunk of lines) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const part of parts) {
        const offset = Number(part);
        first ??= offset;
        assert.ok(offset > highest, "acknowledgements come in offset order");
        highest = offset;
      }
      if (!killed && first !== undefined && highest - first >= minAcked) {
        killed = true;
        // A random moment: right now, or after the child ran a little longer.
        const delay = Math.floor(Math.random() * 3) * 7;
        setTimeout(() => kill(child), delay);
      }
    }
  } finally {
    if (!killed) kill(child);
    await child.status;
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the child was killed, not finished");
  return highest;
}

Deno.test("every acknowledged record survives kill -9, three times over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_kill9_" });
  try {
    let acked = -1;
    for (let round = 0; round < 3; round++) {
      const minAcked = 300 + Math.floor(Math.random() * 700);
      acked = Math.max(acked, await appendUntilKilled(dir, minAcked));
      const storage = await FsStorage.open(dir, {
        segmentBytes: SEGMENT_BYTES,
      });
      try {
        const store = await storage.openPartition("t", 0);
        assert.ok(
          store.nextOffset > acked,
          `round ${round}: acknowledged ${acked}, recovered up to ${
            store.nextOffset - 1
          }`,
        );
        const offsets = await checkedOffsets(
          await store.read(0, Number.MAX_SAFE_INTEGER),
          VALUE_BYTES,
        );
        assert.equal(
          offsets.length,
          store.nextOffset,
          `round ${round}: no gap`,
        );
        assert.ok(offsets.every((offset, i) => offset === i));
        assert.ok(
          (await store.segments()).length >= round + 1,
          "segments rolled",
        );
      } finally {
        await storage.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
