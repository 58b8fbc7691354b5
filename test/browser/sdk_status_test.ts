/**
 * `sync.status().online` reports what is known right after opening (the
 * navigator, while no round has ended) and says where it comes from.
 */

import { browserTest, openCasesPage, servePage } from "./harness.ts";

const OPEN = "online right after opening, from the navigator, then the round";
const OFFLINE = "offline from the navigator, whatever the last round said";

browserTest("browser SDK: sync.status().online and its source", {
  serve: () => servePage("test/browser/sdk_status_page.ts"),
  async run(t, server, browser) {
    const page = await openCasesPage(browser, server.url);
    const run = async (name: string) => {
      const result = await page.evaluate(
        (n) => globalThis.edgelogPageCases!.run(n),
        name,
      );
      if (!result.ok) throw new Error(result.error);
    };
    await t.step(OPEN, () => run(OPEN));
    await page.context().setOffline(true);
    await t.step(OFFLINE, () => run(OFFLINE));
  },
});
