import { runStorageConformance } from "../../runtime/log/storage_conformance.ts";
import { FsStorage } from "./fs_storage.ts";

runStorageConformance("filesystem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
  const options = { segmentBytes: 4096, indexIntervalBytes: 512 };
  return {
    storage: await FsStorage.open(dir, options),
    reopen: () => FsStorage.open(dir, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

runStorageConformance(
  "filesystem (fsync never, an index entry per batch)",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
    const options = {
      segmentBytes: 3000,
      indexIntervalBytes: 1,
      fsync: "never" as const,
    };
    return {
      storage: await FsStorage.open(dir, options),
      reopen: () => FsStorage.open(dir, options),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  },
);

runStorageConformance("filesystem (fsync every 5 ms)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
  const options = { segmentBytes: 4096, fsync: { intervalMs: 5 } };
  return {
    storage: await FsStorage.open(dir, options),
    reopen: () => FsStorage.open(dir, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
