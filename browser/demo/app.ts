/**
 * The field sensor demo: records readings (simulated, or the device's
 * motion when allowed) into a browser log that syncs to the broker serving
 * the page, and shows the local count, the synced count, the lag and the
 * online state as they change. The service worker keeps the page working
 * offline and syncs once the network is back, even after the page closed.
 *
 * Query parameters: `name` (the log, default "field-sensor"), `token`,
 * `auto=1` to start recording every second, `budgetMiB` (default 8, 0 for
 * none): the local disk budget, past which the oldest readings are dropped
 * and the gap is reported to the broker.
 *
 * @module
 */

import {
  type BrowserLog,
  type BrowserSyncStatus,
  openBrowserLog,
} from "../sdk.ts";

const TOPIC = "readings";
const params = new URLSearchParams(location.search);
const name = params.get("name") ?? "field-sensor";
/** The local disk budget; past it the oldest readings are dropped (and reported). */
const budgetMiB = Number(params.get("budgetMiB") ?? 8);

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found as T;
}

/** A reading: the latest motion sample when allowed, else a random walk. */
const sensor = {
  source: "simulated" as "simulated" | "motion",
  temperature: 21,
  humidity: 48,
  motion: { x: 0, y: 0, z: 0 },
  next(): Record<string, unknown> {
    if (this.source === "motion") return { ...this.motion, unit: "m/s²" };
    this.temperature += (Math.random() - 0.5) * 0.4;
    this.humidity += (Math.random() - 0.5) * 0.8;
    return {
      temperature: Math.round(this.temperature * 100) / 100,
      humidity: Math.round(this.humidity * 10) / 10,
    };
  },
};

async function enableMotion(): Promise<void> {
  const request = (DeviceMotionEvent as unknown as {
    requestPermission?: () => Promise<string>;
  })
    .requestPermission;
  if (request && await request() !== "granted") return;
  addEventListener("devicemotion", (event: DeviceMotionEvent) => {
    const a = event.accelerationIncludingGravity;
    if (a?.x == null) return;
    sensor.source = "motion";
    sensor.motion = {
      x: Math.round(a.x * 100) / 100,
      y: Math.round((a.y ?? 0) * 100) / 100,
      z: Math.round((a.z ?? 0) * 100) / 100,
    };
    element("source").textContent = "device motion";
  });
}

function show(status: BrowserSyncStatus): void {
  element("local").textContent = String(status.localRecords);
  element("synced").textContent = String(status.syncedRecords);
  element("lag").textContent = String(status.lagRecords);
  const state = element("state");
  state.textContent = status.online ? "online" : "offline";
  state.className = status.online ? "pill" : "pill offline";
  element("role").textContent = status.leader
    ? "syncing from this tab"
    : "standing by";
  element("error").textContent = status.online || status.lastError === null
    ? ""
    : `last error: ${status.lastError}`;
}

async function record(log: BrowserLog, count = 1): Promise<void> {
  const now = Date.now();
  const records = Array.from({ length: count }, (_, i) => ({
    key: log.nodeId,
    value: { ...sensor.next(), at: new Date(now + i).toISOString() },
    timestamp: now + i,
  }));
  await log.produce(TOPIC, records);
  listReadings(records.map((r) => r.value));
}

/** Puts readings at the top of the list, newest first, keeping five. */
function listReadings(values: unknown[]): void {
  const list = element("readings");
  for (const value of values.slice(-5)) {
    const item = document.createElement("li");
    item.textContent = JSON.stringify(value);
    list.prepend(item);
  }
  while (list.children.length > 5) list.lastElementChild?.remove();
}

/** After a reload the list starts from the local log, not empty. */
async function listStoredReadings(log: BrowserLog): Promise<void> {
  const first = await log.read(TOPIC, 0, { maxRecords: 1 });
  const start = first.records[0]?.offset;
  if (start === undefined) return;
  const { records } = await log.read(TOPIC, 0, {
    offset: Math.max(start, first.highWatermark - 5),
    maxRecords: 5,
  });
  listReadings(records.map((r) => r.value));
}

/**
 * Registers the service worker without waiting for it: offline (DevTools'
 * emulation, some captive networks) `register()` may not settle for about a
 * minute, and the log needs nothing from the worker to open.
 */
function registerWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  const shell = ["./", "./app.js", "./style.css"]
    .map((s) => `shell=${encodeURIComponent(s)}`).join("&");
  navigator.serviceWorker.register(
    `./sw.js?log=${encodeURIComponent(name)}&${shell}`,
  ).catch((err) => console.warn("edgelog demo: no service worker", err));
}

async function main(): Promise<void> {
  const token = params.get("token");
  const log = await openBrowserLog({
    name,
    upstream: location.origin,
    ...(token ? { token } : {}),
    topics: {
      [TOPIC]: {
        diskBudgetBytes: budgetMiB > 0 ? budgetMiB * 1024 * 1024 : -1,
        whenFull: "dropOldest",
      },
    },
    createUpstreamTopics: true,
    backoff: { baseMs: 250, maxMs: 5000 },
  });
  element("node").textContent = log.nodeId;
  await listStoredReadings(log).catch(console.error);
  log.sync.on("lag", show);
  show(await log.sync.status());

  let timer: ReturnType<typeof setInterval> | undefined;
  const auto = element<HTMLInputElement>("auto");
  auto.checked = params.get("auto") === "1";
  const toggle = () => {
    clearInterval(timer);
    timer = auto.checked
      ? setInterval(() => record(log).catch(console.error), 1000)
      : undefined;
  };
  auto.addEventListener("change", toggle);
  toggle();
  element("record").addEventListener(
    "click",
    () => record(log).catch(console.error),
  );
  element("motion").addEventListener(
    "click",
    () => enableMotion().catch(console.error),
  );
  Object.assign(globalThis, {
    edgelogDemo: { log, record: (n: number) => record(log, n) },
  });
  registerWorker();
}

main().catch((err) => {
  console.error(err);
  element("error").textContent = String(err);
});
