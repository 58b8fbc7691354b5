/**
 * The console's topic page shows each partition's Kafka mirror: its state
 * and lag, and a stopped partition's reason in red. A node whose mirror view
 * reports one partition stopped and one mirroring stands in for a broker
 * whose Kafka disagrees (test/kafka covers how a mirror comes to stop).
 */

import assert from "node:assert/strict";
import { consoleFiles } from "../../edge/console_files.ts";
import { GroupCoordinator } from "../../runtime/groups/mod.ts";
import { Log, MemoryStorage } from "../../runtime/log/mod.ts";
import { createApp } from "../../runtime/server/app.ts";
import { browserTest } from "./harness.ts";

const STOPPED = "Kafka put edgelog offset 12 of t-0 at 14, expected 12";

async function serveMirroredTopic() {
  const log = await Log.open({ storage: new MemoryStorage() });
  await log.createTopic("t", { partitions: 2 });
  const groups = await GroupCoordinator.open({
    meta: log.meta,
    partitionCount: (t) =>
      log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
    highWatermark: (t, p) => log.partition(t, p).highWatermark,
  });
  const app = createApp({
    log,
    groups,
    files: consoleFiles(),
    mirror: {
      partitionStatus: (_topic, partition) =>
        partition === 0
          ? { state: "stopped", mirroredOffset: 12, lag: 30, error: STOPPED }
          : { state: "mirroring", mirroredOffset: 0, lag: 0, error: null },
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    app.fetch,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: async () => {
      await server.shutdown();
      await log.close();
    },
  };
}

browserTest("console: the topic page shows each partition's Kafka mirror", {
  serve: serveMirroredTopic,
  async run(_t, server, browser) {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.url}/#/topic/t`);
    await page.getByRole("columnheader", { name: "Kafka mirror" }).waitFor();
    const stopped = page.getByText(STOPPED);
    await stopped.waitFor();
    assert.equal(await stopped.getAttribute("class"), "bad");
    const cells = await page.locator("tbody tr").allInnerTexts();
    assert.match(cells[0] ?? "", /stopped, lag 30/);
    assert.match(cells[1] ?? "", /mirroring, lag 0/);
    await page.close();
  },
});
