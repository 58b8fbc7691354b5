/**
 * `deno task screenshots`: writes a screenshot of every console view at
 * 1280×800 and 390×844, light and dark, into docs/screenshots/, from a
 * broker and a gateway started here with a little traffic, a group and a
 * few devices (one of them silent).
 *
 * @module
 */

import { EdgelogClient } from "../../runtime/client/mod.ts";
import { launchChromium } from "./chromium.ts";
import { ADMIN_TOKEN, startConsoleNodes } from "./console_nodes.ts";

const OUT = new URL("../../docs/screenshots/", import.meta.url).pathname;

const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

const nodes = await startConsoleNodes({ deviceSilentMs: 2000 });
const client = new EdgelogClient(nodes.broker.url, { token: ADMIN_TOKEN });
try {
  await client.createTopic("readings", { partitions: 1 });
  await client.registerStream("sensor-03", "readings", 0);
  await client.createTopic("orders", { partitions: 3 });
  await client.createTopic("payments", {
    partitions: 2,
    retentionMs: 86_400_000,
  });
  await client.produce("orders", [
    {
      key: "order-1001",
      value: { id: 1001, items: [{ sku: "A-7", qty: 2 }], total: 42.5 },
      headers: { source: "web", "trace-id": "4bf92f35" },
    },
    {
      key: "order-1002",
      value: new TextEncoder().encode("plain text, not JSON"),
    },
    {
      key: "order-1003",
      value: new Uint8Array([0, 1, 2, 3, 4, 255, 16, 17, 18, 19, 20]),
    },
  ]);
  const member = await client.heartbeat("billing", { topics: ["orders"] });
  await client.commitOffsets("billing", {
    memberId: member.memberId,
    memberEpoch: member.memberEpoch,
    offsets: [{ topic: "orders", partition: 0, offset: 0 }],
  });
  await client.heartbeat("billing", {
    memberId: member.memberId,
    memberEpoch: -1,
    topics: ["orders"],
  });
  await new Promise((r) => setTimeout(r, 2500));
  for (const node of ["sensor-01", "sensor-02"]) {
    await client.registerStream(node, "readings", 0);
  }
  await new EdgelogClient(nodes.gateway.url).produce("readings", [{
    value: { t: 20.5 },
  }]);
  // A few seconds of traffic, so the overview's chart has a shape.
  for (let i = 0; i < 20; i++) {
    await client.produce(
      "payments",
      Array.from({ length: 5 + (i % 7) * 3 }, (_, n) => ({ value: { n } })),
    );
    await new Promise((r) => setTimeout(r, 250));
  }

  const broker = `${nodes.broker.url}/`;
  const views: [string, string, string][] = [
    ["overview", broker, "#/overview"],
    ["topics", broker, "#/topics"],
    ["topic", broker, "#/topic/orders"],
    ["messages", broker, "#/messages/orders?from=earliest"],
    ["produce", broker, "#/produce/orders"],
    ["groups", broker, "#/groups"],
    ["group", broker, "#/group/billing"],
    ["devices", broker, "#/devices"],
    ["device", broker, "#/device/sensor-01"],
    ["gateway-devices", `${nodes.gateway.url}/`, "#/devices"],
  ];
  await Deno.mkdir(OUT, { recursive: true });
  const browser = await launchChromium();
  try {
    for (const size of SIZES) {
      for (const scheme of ["light", "dark"] as const) {
        const context = await browser.newContext({
          viewport: { width: size.width, height: size.height },
          colorScheme: scheme,
        });
        await context.addInitScript((t: string) => {
          localStorage.setItem("edgelog.token", t);
        }, ADMIN_TOKEN);
        const page = await context.newPage();
        for (const [name, base, hash] of views) {
          await page.goto(`${base}${hash}`);
          await page.waitForFunction(() =>
            document.querySelector("h1") !== null &&
            !document.body.innerText.includes("Loading…")
          );
          await page.waitForTimeout(400);
          const path = `${OUT}${name}-${size.name}-${scheme}.png`;
          await page.screenshot({ path });
          console.log(path);
        }
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
} finally {
  await nodes.close();
}
