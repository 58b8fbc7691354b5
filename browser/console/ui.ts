/**
 * Small pieces every view uses: a page title, an error note that says
 * what a status means, an empty state that says what to do next, a stat
 * card, a pager and a confirmation dialog.
 *
 * @module
 */

import type { ComponentChildren } from "preact";
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import { describeError } from "./errors.ts";
import { token } from "./state.ts";

/** An error in words; `what` names what was tried, for a 403. */
export function ErrorNote(
  { error, what }: { error: unknown; what: string },
) {
  if (error === undefined || error === null) return null;
  return html`<p class="error" role="alert">${
    describeError(error, what, token.value !== "")
  }</p>`;
}

/** A list with nothing in it, and what to do about it. */
export function Empty({ children }: { children: ComponentChildren }) {
  return html`<p class="empty">${children}</p>`;
}

/** "Loading…" until the first answer. */
export function Loading() {
  return html`<p class="muted" aria-live="polite">Loading…</p>`;
}

/** One figure of the overview. */
export function Stat(
  { label, value, tone }: {
    label: string;
    value: ComponentChildren;
    tone?: "bad" | "good";
  },
) {
  return html`
    <div class=${`stat ${tone ?? ""}`}>
      <div class="stat-label">${label}</div>
      <div class="stat-value">${value}</div>
    </div>
  `;
}

/** Page back and forth through `total` rows, `size` at a time. */
export function Pager(
  { page, size, total, onPage }: {
    page: number;
    size: number;
    total: number;
    onPage: (page: number) => void;
  },
) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return null;
  return html`
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${page <= 0}
        onClick=${() => onPage(page - 1)}>← Previous</button>
      <span>Page ${page + 1} of ${pages} (${total} rows)</span>
      <button type="button" disabled=${page >= pages - 1} onClick=${() =>
        onPage(page + 1)}>Next →</button>
    </nav>
  `;
}

/** A modal dialog asking to confirm a destructive action. */
export function Confirm(
  { open, title, children, action, onConfirm, onCancel }: {
    open: boolean;
    title: string;
    children: ComponentChildren;
    action: string;
    onConfirm: () => void;
    onCancel: () => void;
  },
) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onCancel=${(
    e: Event,
  ) => {
    e.preventDefault();
    onCancel();
  }}>
    <h2 id="confirm-title">${title}</h2>
    ${children}
    <div class="row">
      <button type="button" class="danger" onClick=${onConfirm}>${action}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </dialog>`;
}

/** A table cell that carries its column name for the phone layout. */
export function Cell(
  { label, children, class: className }: {
    label: string;
    children?: ComponentChildren;
    class?: string;
  },
) {
  return html`<td data-label=${label} class=${
    className ?? ""
  }>${children}</td>`;
}
