/**
 * How the console writes numbers, sizes and times.
 *
 * @module
 */

/** Bytes in binary units: "0 B", "1.5 KiB", "3.0 GiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return "unknown";
  }
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A rate per second: "0", "0.25", "12", "1,204". */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond < 10) return String(Math.round(perSecond * 100) / 100);
  return formatCount(Math.round(perSecond));
}

/** A duration in its two largest units: "45 s", "3 min 20 s", "2 d 4 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor(s / 3600) % 24, "h"],
    [Math.floor(s / 60) % 60, "min"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0 s";
  return parts.slice(first, first + 2).filter(([n]) => n > 0)
    .map(([n, u]) => `${n} ${u}`).join(" ");
}

/** How long ago `thenMs` was at `nowMs`: "just now", "5 s ago", "3 min ago". */
export function formatAgo(thenMs: number, nowMs: number): string {
  const ms = nowMs - thenMs;
  if (ms < 1000) return "just now";
  return `${formatDuration(ms)} ago`;
}

/** A retention setting: "forever" for -1, else the duration or size. */
export function formatRetention(ms: number, bytes: number): string {
  const time = ms < 0 ? "forever" : formatDuration(ms);
  return bytes < 0 ? time : `${time}, ${formatBytes(bytes)}`;
}

/** A local date-time with seconds: "2026-12-07 01:25:03". */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
