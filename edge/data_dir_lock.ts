/**
 * One writer per data directory. Two nodes appending to one directory each
 * acknowledge records the other later overwrites, so a node takes an
 * exclusive OS lock (flock) on `<dir>/LOCK` before it opens its storage and
 * holds it until it closes. The OS drops the lock when the process dies,
 * even by kill -9, so a crash never leaves a stale lock behind. The file
 * names the holder (pid, host, start time) for the one refused.
 *
 * @module
 */

import { ConfigError } from "./config.ts";

/** A held lock; `release()` unlocks it. */
export interface DataDirLock {
  release(): void;
}

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "LOCK";

async function hostName(): Promise<string> {
  try {
    return Deno.hostname();
  } catch {
    // Without --allow-sys the kernel's name is still readable here.
    try {
      return (await Deno.readTextFile("/etc/hostname")).trim() || "unknown";
    } catch {
      return "unknown";
    }
  }
}

async function describeHolder(path: string): Promise<string> {
  try {
    const holder = JSON.parse(await Deno.readTextFile(path)) as {
      pid?: unknown;
      host?: unknown;
      startedAt?: unknown;
    };
    return `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}`;
  } catch {
    return "a process that has not written its name yet";
  }
}

/**
 * Takes the lock of `dir` (creating the directory), or throws a
 * ConfigError naming the process that holds it.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${LOCK_FILE}`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
    if (!locked) {
      throw new ConfigError(
        `Data directory ${dir} is in use by another edgelog process (${await describeHolder(
          path,
        )}); stop it or choose another data directory`,
      );
    }
    const holder = JSON.stringify({
      pid: Deno.pid,
      host: await hostName(),
      startedAt: new Date().toISOString(),
    });
    await file.truncate(0);
    await file.write(new TextEncoder().encode(holder + "\n"));
  } catch (err) {
    file.close();
    throw err;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      file.close();
    },
  };
}
