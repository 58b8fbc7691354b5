/**
 * The web console in Chromium against a real broker and gateway: every
 * view driven as an operator would, with no console errors on first load
 * and reload, no serious accessibility violation (axe-core), and no
 * horizontal scrolling on a 390 px phone.
 *
 * @module
 */

import assert from "node:assert/strict";
import axe from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { EdgelogClient } from "../../runtime/client/mod.ts";
import {
  ADMIN_TOKEN,
  type ConsoleNodes,
  READER_TOKEN,
  startConsoleNodes,
} from "./console_nodes.ts";
import { browserTest } from "./harness.ts";

const SILENT_MS = 3000;

/** A context whose console starts with `token` in its token field. */
async function contextWith(
  browser: Browser,
  token: string,
  options: { width?: number; height?: number; dark?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.dark ? "dark" : "light",
  });
  await context.addInitScript((t: string) => {
    localStorage.setItem("edgelog.token", t);
  }, token);
  context.setDefaultTimeout(30_000);
  return context;
}

/** Collects console errors and page errors of `page`. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

function text(page: Page, content: string | RegExp) {
  return page.getByText(content).first().waitFor();
}

/** Waits until the page shows no "Loading…" and its requests settled. */
async function settled(page: Page, heading: string): Promise<void> {
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  await page.waitForFunction(() =>
    !document.body.innerText.includes("Loading…")
  );
  await page.waitForTimeout(300);
}

/** Serious or critical axe-core violations on the page as it is. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  const result = await page.evaluate(async () => {
    const run = (globalThis as unknown as {
      axe: {
        run(): Promise<
          {
            violations: {
              id: string;
              impact: string;
              nodes: { target: string[] }[];
            }[];
          }
        >;
      };
    }).axe.run;
    return await run();
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) =>
      `${v.id} (${v.impact}) at ${
        v.nodes.map((n) => n.target.join(" ")).join(", ")
      }`
    );
}

async function seed(nodes: ConsoleNodes): Promise<void> {
  const client = new EdgelogClient(nodes.broker.url, { token: ADMIN_TOKEN });
  await client.createTopic("orders", { partitions: 2 });
  await client.produce("orders", [
    { key: "o-1", value: { total: 12 }, headers: { source: "test" } },
    { key: "o-2", value: "plain text" },
  ]);
  await client.createTopic("usage", { partitions: 1 });
  await client.produce(
    "usage",
    Array.from({ length: 5 }, (_, i) => ({ value: { i }, partition: 0 })),
  );
  const member = await client.heartbeat("billing", { topics: ["usage"] });
  await client.commitOffsets("billing", {
    memberId: member.memberId,
    memberEpoch: member.memberEpoch,
    offsets: [{ topic: "usage", partition: 0, offset: 5 }],
  });
  await client.heartbeat("billing", {
    memberId: member.memberId,
    memberEpoch: -1,
    topics: ["usage"],
  });
  await client.createTopic("readings", { partitions: 1 });
  await client.registerStream("sensor-1", "readings", 0);
  const gateway = new EdgelogClient(nodes.gateway.url);
  await gateway.produce("readings", [{ value: { t: 1 }, partition: 0 }]);
}

browserTest("console", {
  async serve() {
    const nodes = await startConsoleNodes({ deviceSilentMs: SILENT_MS });
    await seed(nodes);
    return nodes;
  },
  async run(t, nodes, browser) {
    const url = `${nodes.broker.url}/`;
    const admin = new EdgelogClient(nodes.broker.url, { token: ADMIN_TOKEN });

    await t.step(
      "401 and 403 say what they mean; the token applies at once",
      async () => {
        const context = await contextWith(browser, "");
        const page = await context.newPage();
        await page.goto(`${url}#/topics`);
        await text(
          page,
          "The node needs a token: enter one in the token field.",
        );
        await page.locator("#token-input").fill("wrong");
        await text(page, "The node does not know this token");
        await page.locator("#token-input").fill(READER_TOKEN);
        await page.goto(`${url}#/messages/orders?from=earliest`);
        await text(page, "This token may not read topic orders.");
        await page.locator("#token-input").fill(ADMIN_TOKEN);
        await text(page, "o-1");
        assert.equal(
          await page.getByText("This token may not read topic orders.").count(),
          0,
        );
        await context.close();
      },
    );

    const context = await contextWith(browser, ADMIN_TOKEN);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const page = await context.newPage();

    await t.step("create a topic and see it listed", async () => {
      await page.goto(`${url}#/topics`);
      const form = page.getByRole("form", { name: "Create a topic" });
      await form.getByLabel("Name").fill("console-t");
      await form.getByLabel("Partitions").fill("2");
      await form.getByRole("button", { name: "Create topic" }).click();
      await text(page, "Created topic console-t.");
      await page.getByRole("link", { name: "console-t", exact: true })
        .waitFor();
    });

    let between = "";
    await t.step(
      "produce with headers; invalid JSON is refused with the parse error",
      async () => {
        await page.goto(`${url}#/produce/console-t`);
        await page.getByLabel("Key", { exact: true }).fill("dev-42");
        await page.getByRole("button", { name: "Add header" }).click();
        await page.getByLabel("Name", { exact: true }).fill("unit");
        await page.getByLabel("Value", { exact: true }).first().fill("C");
        await page.getByLabel("Value", { exact: true }).last().fill("{t: 1");
        await page.getByRole("button", { name: "Produce record" }).click();
        await text(page, /The value is not JSON \(.+\)/);
        await page.getByLabel("Value", { exact: true }).last().fill(
          '{"t": 21.5, "ok": true}',
        );
        await page.getByRole("button", { name: "Produce record" }).click();
        await text(page, /Written to partition \d at offset 0/);
        // A second record one whole second later, to find by date-time.
        const first = Date.now();
        const at = Math.ceil((first + 1) / 1000) * 1000;
        while (Date.now() <= at) await new Promise((r) => setTimeout(r, 50));
        between = await page.evaluate((ms: number) => {
          const d = new Date(ms);
          const p = (n: number) => String(n).padStart(2, "0");
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${
            p(d.getHours())
          }:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        }, at);
        await admin.produce("console-t", [{ key: "dev-43", value: { t: 22 } }]);
      },
    );

    await t.step(
      "find the record by key and see it pretty-printed with its headers",
      async () => {
        await page.goto(`${url}#/messages/console-t?from=earliest&key=dev-42`);
        const card = page.locator("article.record").filter({
          hasText: "dev-42",
        });
        await card.waitFor();
        assert.equal(await page.locator("article.record").count(), 1);
        assert.match(
          await card.locator("pre.value").innerText(),
          /\{\n {2}"t": 21\.5,\n {2}"ok": true\n\}/,
        );
        assert.match(await card.locator(".headers").innerText(), /unit\s+C/);
        await card.getByRole("button", { name: "Copy as JSON" }).click();
        await card.getByText("Copied").waitFor();
        const copied = JSON.parse(
          await page.evaluate(() => navigator.clipboard.readText()),
        );
        assert.deepEqual(
          { key: copied.key, value: copied.value, headers: copied.headers },
          {
            key: "dev-42",
            value: { t: 21.5, ok: true },
            headers: { unit: "C" },
          },
        );
      },
    );

    await t.step("find a record by date-time", async () => {
      await page.goto(`${url}#/messages/console-t`);
      await page.getByLabel("Start at").selectOption("time");
      await page.getByLabel("Date-time (local)").fill(between);
      await page.getByRole("button", { name: "Show records" }).click();
      await page.waitForURL(/from=time/);
      await page.waitForFunction(() => {
        const cards = [...document.querySelectorAll("article.record")];
        return cards.length === 1 && cards[0]!.textContent!.includes("dev-43");
      });
    });

    await t.step("page forward and back through a partition", async () => {
      await page.goto(`${url}#/messages/usage?p=0&from=earliest&size=2`);
      await page.locator("article.record").filter({ hasText: "offset 0" })
        .waitFor();
      await page.getByRole("button", { name: "Next page →" }).click();
      await page.locator("article.record").filter({ hasText: "offset 2" })
        .waitFor();
      assert.match(page.url(), /pos=0%3A2/);
      await page.getByRole("button", { name: "← Previous page" }).click();
      await page.locator("article.record").filter({ hasText: "offset 0" })
        .waitFor();
    });

    await t.step("the live tail shows new records and pauses", async () => {
      await page.goto(`${url}#/messages/console-t`);
      await page.getByRole("button", { name: "Start live tail" }).click();
      await text(page, "Tailing: new records appear on top");
      const tail = page.locator("section").filter({
        has: page.getByRole("heading", { name: "Live tail" }),
      });
      // The stream starts at "latest": produce until the first one shows.
      const deadline = Date.now() + 60_000;
      let i = 0;
      while (Date.now() < deadline) {
        await admin.produce("console-t", [{ key: "tail-1", value: i++ }]);
        const seen = await tail.locator("article.record")
          .filter({ hasText: "tail-1" }).count();
        if (seen > 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await tail.locator("article.record").filter({ hasText: "tail-1" })
        .first().waitFor();
      await page.getByRole("button", { name: "Pause" }).click();
      // Records produced before the pause that had not shown yet wait too.
      const shown = await tail.locator("article.record")
        .filter({ hasText: "tail-1" }).count();
      await admin.produce("console-t", [{ key: "tail-2", value: 2 }]);
      const resume = page.getByRole("button", {
        name: `Resume (${i - shown + 1} waiting)`,
      });
      await resume.waitFor();
      assert.equal(
        await tail.locator("article.record").filter({ hasText: "tail-2" })
          .count(),
        0,
      );
      await resume.click();
      await tail.locator("article.record").filter({ hasText: "tail-2" })
        .waitFor();
    });

    await t.step("reset a group and see its lag change", async () => {
      await page.goto(`${url}#/group/billing`);
      const lag = page.getByTestId("total-lag");
      await page.waitForFunction(
        () =>
          document.querySelector("[data-testid=total-lag]")?.textContent ===
            "0",
      );
      const form = page.getByRole("form", { name: "Reset offsets" });
      await form.locator('select[name="to"]').selectOption("earliest");
      await form.getByRole("button", { name: "Reset offsets" }).click();
      await text(page, "Moved 1 partition(s).");
      await page.waitForFunction(
        () =>
          document.querySelector("[data-testid=total-lag]")?.textContent ===
            "5",
      );
      assert.equal(await lag.innerText(), "5");
      assert.equal((await admin.committedOffsets("billing"))[0]?.lag, 5);
    });

    await t.step("a device goes silent and is flagged", async () => {
      await admin.registerStream("sensor-2", "readings", 0);
      await page.goto(`${url}#/devices`);
      const row = page.locator("tr").filter({ hasText: "sensor-2" });
      await row.waitFor();
      await row.locator(".badge", { hasText: "silent" }).waitFor();
      await text(page, "when none of its streams pushed for 3 s");
    });

    await t.step("a gateway shows its own sync error", async () => {
      await page.goto(`${nodes.gateway.url}/#/devices`);
      await text(page, "This gateway's upstream");
      await page.locator("strong.bad", { hasText: "offline" }).waitFor();
      const error = page.locator(".error-text").first();
      await error.waitFor();
      assert.match(
        await error.innerText(),
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ./,
      );
      const color = await error.evaluate((el) => getComputedStyle(el).color);
      assert.equal(color, "rgb(179, 38, 30)");
    });

    await t.step("delete an empty group after confirming", async () => {
      await page.goto(`${url}#/group/billing`);
      await page.getByRole("button", { name: "Delete group" }).click();
      await page.getByRole("dialog").getByRole("button", {
        name: "Delete group",
      }).click();
      await text(page, "No consumer groups yet");
      assert.deepEqual(await admin.listGroups(), []);
    });

    await t.step("delete a topic after confirming", async () => {
      await page.goto(`${url}#/topics`);
      await page.getByRole("button", { name: "Delete topic console-t" })
        .click();
      await page.getByRole("dialog").getByRole("button", {
        name: "Delete topic",
      }).click();
      await page.getByRole("link", { name: "console-t", exact: true })
        .waitFor({ state: "detached" });
      assert.equal(
        (await admin.listTopics()).some((x) => x.name === "console-t"),
        false,
      );
    });
    await t.step("a banner says when the node cannot be reached", async () => {
      await page.goto(`${url}#/overview`);
      await page.getByRole("heading", { name: "Counts" }).waitFor();
      await page.route("**/v1/**", (r) => r.abort());
      await page.route("**/healthz", (r) => r.abort());
      await text(page, "The node cannot be reached: it may be down");
      await page.unroute("**/v1/**");
      await page.unroute("**/healthz");
      await page.getByText("The node cannot be reached: it may be down")
        .waitFor({ state: "detached" });
    });
    await context.close();

    const views = [
      ["broker", "#/overview", "Overview"],
      ["broker", "#/topics", "Topics"],
      ["broker", "#/topic/orders", "orders"],
      ["broker", "#/messages/orders?from=earliest", "Messages: orders"],
      ["broker", "#/produce/orders", "Produce"],
      ["broker", "#/groups", "Consumer groups"],
      ["broker", "#/devices", "Devices"],
      ["broker", "#/device/sensor-1", "sensor-1"],
      ["gateway", "#/overview", "Overview"],
      ["gateway", "#/devices", "Devices"],
    ] as const;
    for (const dark of [false, true]) {
      await t.step(
        `every view: no console error on load and reload, no serious axe violation (${
          dark ? "dark" : "light"
        })`,
        async () => {
          const ctx = await contextWith(browser, ADMIN_TOKEN, { dark });
          const view = await ctx.newPage();
          const errors = watchErrors(view);
          const violations: string[] = [];
          for (const [node, hash, heading] of views) {
            const base = node === "broker" ? url : `${nodes.gateway.url}/`;
            await view.goto(`${base}${hash}`);
            await settled(view, heading);
            violations.push(
              ...(await axeViolations(view)).map((v) => `${hash}: ${v}`),
            );
            await view.reload();
            await settled(view, heading);
          }
          await ctx.close();
          assert.deepEqual(errors, []);
          assert.deepEqual(violations, []);
        },
      );
    }

    await t.step("a 390 px phone never scrolls sideways", async () => {
      const ctx = await contextWith(browser, ADMIN_TOKEN, {
        width: 390,
        height: 844,
      });
      const phone = await ctx.newPage();
      const wide: string[] = [];
      for (const [node, hash, heading] of views) {
        const base = node === "broker" ? url : `${nodes.gateway.url}/`;
        await phone.goto(`${base}${hash}`);
        await settled(phone, heading);
        const width = await phone.evaluate(() =>
          document.documentElement.scrollWidth
        );
        if (width > 390) wide.push(`${hash}: ${width} px`);
      }
      await ctx.close();
      assert.deepEqual(wide, []);
    });
  },
});
