/**
 * The durable ceiling of the HTTP benchmark: a bare `Deno.serve` that
 * appends each request body to one file per `?partition=N` and answers
 * once the bytes are fsynced, sharing an fsync among the bodies that
 * arrived while the previous one ran (the broker's group commit, without
 * the broker). It checks nothing and indexes nothing, so the broker can
 * at most match it: the gap between it and the plain ceiling is what
 * making a produce durable costs on this machine.
 *
 * @module
 */

import { flagValue } from "./_common.ts";
import { okResponse, serveBench } from "./_bench_server.ts";

/** One append-only file and the bodies waiting for its next write. */
interface PartitionFile {
  file: Deno.FsFile;
  waiting: { body: Uint8Array; done: () => void }[];
  draining: boolean;
}

const dir = flagValue("--data") ?? await Deno.makeTempDir();
const files = new Map<string, Promise<PartitionFile>>();

function partitionFile(name: string): Promise<PartitionFile> {
  let entry = files.get(name);
  if (entry === undefined) {
    entry = Deno.open(`${dir}/${name}.log`, { create: true, append: true })
      .then((file) => ({ file, waiting: [], draining: false }));
    files.set(name, entry);
  }
  return entry;
}

/** Writes and fsyncs the waiting bodies group by group. */
async function drain(entry: PartitionFile): Promise<void> {
  entry.draining = true;
  while (entry.waiting.length > 0) {
    const group = entry.waiting.splice(0);
    for (const { body } of group) {
      for (let at = 0; at < body.length;) {
        at += await entry.file.write(body.subarray(at));
      }
    }
    await entry.file.syncData();
    for (const { done } of group) done();
  }
  entry.draining = false;
}

serveBench("durable ceiling server", async (req) => {
  const partition = new URL(req.url).searchParams.get("partition") ?? "0";
  const body = new Uint8Array(await req.arrayBuffer());
  const entry = await partitionFile(partition.replace(/\D/g, "") || "0");
  await new Promise<void>((done) => {
    entry.waiting.push({ body, done });
    if (!entry.draining) drain(entry);
  });
  return okResponse();
});
