/**
 * The gateway's node id: generated once and kept in the data directory, so
 * a restarted gateway resumes the same streams upstream.
 *
 * @module
 */

const FILE = "node-id";

/**
 * The node id stored in `dataDir`; `given` (from --node-id) replaces it,
 * and a new random one is generated when neither exists.
 */
export async function loadNodeId(
  dataDir: string,
  given?: string,
): Promise<string> {
  const path = `${dataDir}/${FILE}`;
  let stored: string | undefined;
  try {
    stored = (await Deno.readTextFile(path)).trim();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const nodeId = given ?? (stored || `gw-${crypto.randomUUID()}`);
  if (nodeId !== stored) {
    await Deno.mkdir(dataDir, { recursive: true });
    const temp = `${path}.tmp`;
    await Deno.writeTextFile(temp, nodeId + "\n");
    await Deno.rename(temp, path);
  }
  return nodeId;
}
