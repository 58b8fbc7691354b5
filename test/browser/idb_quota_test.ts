import {
  browserTest,
  openCasesPage,
  runPageCases,
  servePage,
} from "./harness.ts";

/** The quota the test gives the page's origin. */
const QUOTA_BYTES = 6 * 1024 * 1024;

browserTest("IdbStorage reports a real quota and turns it into STORAGE_FULL", {
  serve: () => servePage("test/browser/idb_quota_page.ts"),
  async run(t, server, browser) {
    const page = await openCasesPage(browser, server.url);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", {
      origin: new URL(server.url).origin,
      quotaSize: QUOTA_BYTES,
    });
    await runPageCases(t, page);
  },
});
