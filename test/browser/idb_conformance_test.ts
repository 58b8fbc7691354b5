import {
  CHROMIUM_MISSING,
  chromiumAvailable,
  launchChromium,
} from "./chromium.ts";
import { openCasesPage, runPageCases, servePage } from "./harness.ts";

Deno.test({
  name: `IdbStorage passes the storage conformance suite in Chromium${
    chromiumAvailable() ? "" : ` (skipped: ${CHROMIUM_MISSING})`
  }`,
  ignore: !chromiumAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await servePage("test/browser/idb_conformance_page.ts");
    const browser = await launchChromium();
    try {
      const page = await openCasesPage(browser, server.url);
      await runPageCases(t, page);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
