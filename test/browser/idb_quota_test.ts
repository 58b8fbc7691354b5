import {
  CHROMIUM_MISSING,
  chromiumAvailable,
  launchChromium,
} from "./chromium.ts";
import { openCasesPage, runPageCases, servePage } from "./harness.ts";

/** The quota the test gives the page's origin. */
const QUOTA_BYTES = 6 * 1024 * 1024;

Deno.test({
  name: `IdbStorage reports a real quota and turns it into STORAGE_FULL${
    chromiumAvailable() ? "" : ` (skipped: ${CHROMIUM_MISSING})`
  }`,
  ignore: !chromiumAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await servePage("test/browser/idb_quota_page.ts");
    const browser = await launchChromium();
    try {
      const page = await openCasesPage(browser, server.url);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Storage.overrideQuotaForOrigin", {
        origin: new URL(server.url).origin,
        quotaSize: QUOTA_BYTES,
      });
      await runPageCases(t, page);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
