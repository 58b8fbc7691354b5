import {
  browserTest,
  openCasesPage,
  runPageCases,
  servePage,
} from "./harness.ts";

browserTest("IdbStorage passes the storage conformance suite in Chromium", {
  serve: () => servePage("test/browser/idb_conformance_page.ts"),
  async run(t, server, browser) {
    const page = await openCasesPage(browser, server.url);
    await runPageCases(t, page);
  },
});
