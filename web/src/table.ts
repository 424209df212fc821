// Data table: every example of the dataset (and the datapoints added in the app) with its
// prediction. Sort by any column, filter by text or /regex/, select, pin, star, export what is
// shown as CSV. Rows are virtualised: only the visible rows exist in the DOM, so 10k rows scroll
// as smoothly as 10.
import type { Datapoint } from "./api";
import { clear, h, panel, fmt } from "./dom";
import { goldIndex, type Store } from "./state";
import { modelsDisagree } from "./compare";

const ROW = 28;

interface Column { key: string; title: string; value: (d: Datapoint) => string | number; width: string }

export function dataTable(store: Store): HTMLElement {
  let sortKey = "index";
  let sortDir = 1;
  let filter = "";
  let starredOnly = false;
  let disagreeOnly = false;
  let rows: Datapoint[] = [];
  const index = new Map<string, number>();

  const hasPair = store.examples.some((e) => e.pair);
  const predictedBy = (model: string) => (d: Datapoint): string | number => {
    const p = store.predictionsOf(model).get(d.id ?? "");
    if (!p) return "";
    if (p.value !== undefined) return p.value;
    if (p.answer) return p.answer.text;
    if (p.generatedText !== undefined) return p.generatedText;
    if (p.tags) return p.tags.filter((t) => !t.special && t.tag !== "O").map((t) => t.tag).join(" ");
    return p.label ?? "";
  };
  const predicted = predictedBy(store.model.name);
  // Models compared (compare.ts): one prediction column per model, titled by its name.
  const others = store.models.slice(1).map((m) => ({ key: `pred:${m.name}`, title: m.name, value: predictedBy(m.name), width: "7em" }));
  const score = (d: Datapoint): number | string => {
    const p = store.predictions.get(d.id ?? "");
    return p?.probabilities && p.labelIndex !== undefined ? p.probabilities[p.labelIndex] : "";
  };
  const columns: Column[] = [
    { key: "index", title: "#", value: (d) => index.get(d.id ?? "") ?? 0, width: "3.5em" },
    { key: "id", title: "id", value: (d) => d.id ?? "", width: "5em" },
    { key: "text", title: "text", value: (d) => d.text, width: "1fr" },
    ...(hasPair ? [{ key: "pair", title: "pair", value: (d: Datapoint) => d.pair ?? "", width: "1fr" }] : []),
    { key: "label", title: "label", value: (d) => goldName(d), width: "6em" },
    { key: "predicted", title: others.length ? store.model.name : "predicted", value: predicted, width: "7em" },
    { key: "score", title: "score", value: score, width: "4.5em" },
    ...others,
  ];
  function goldName(d: Datapoint): string {
    const gi = goldIndex(store.model.labels, d.label);
    return gi !== null ? store.model.labels[gi] : d.label ?? "";
  }
  const template = `2.2em 2.2em ${columns.map((c) => c.width).join(" ")}`;

  const filterBox = h("input", { type: "search", placeholder: "filter: words, or /regex/", class: "filter", "aria-label": "filter rows" });
  const count = h("span", { class: "count" });
  const starToggle = h("label", {}, h("input", { type: "checkbox", onchange: (e: Event) => { starredOnly = (e.target as HTMLInputElement).checked; refresh(); } }), " starred only");
  const disagreeToggle = store.models.length > 1
    ? h("label", { class: "disagree-toggle" }, h("input", { type: "checkbox", onchange: (e: Event) => { disagreeOnly = (e.target as HTMLInputElement).checked; refresh(); } }), " models disagree")
    : null;
  const cellChip = h("button", { class: "chip", hidden: true, title: "clear the confusion-matrix filter", onclick: () => { store.cellFilter = null; store.emit("examples"); } });
  const exportBtn = h("button", { onclick: () => exportCsv() }, "Export CSV");
  const header = h("div", { class: "row head", style: `grid-template-columns:${template}` });
  const viewport = h("div", { class: "viewport", tabindex: 0 });
  const spacer = h("div", { class: "spacer" });
  const body = h("div", { class: "rows" });
  viewport.append(spacer, body);

  header.append(h("div", { title: "starred" }, "★"), h("div", { title: "pinned" }, "⚑"));
  for (const c of columns) {
    header.append(h("div", { class: "sortable", "data-key": c.key, onclick: () => { sortDir = sortKey === c.key ? -sortDir : 1; sortKey = c.key; refresh(); } }, c.title));
  }

  filterBox.addEventListener("input", () => { filter = filterBox.value; refresh(); });
  viewport.addEventListener("scroll", () => render());
  viewport.addEventListener("keydown", (e) => {
    const i = rows.findIndex((r) => r.id === store.selectedId);
    if (e.key === "ArrowDown" && i < rows.length - 1) { store.select(rows[i + 1].id!); e.preventDefault(); }
    if (e.key === "ArrowUp" && i > 0) { store.select(rows[i - 1].id!); e.preventDefault(); }
  });

  function matcher(): ((d: Datapoint) => boolean) | string {
    const f = filter.trim();
    if (!f) return () => true;
    const m = /^\/(.*)\/([a-z]*)$/.exec(f);
    if (m) {
      try {
        const re = new RegExp(m[1], m[2].includes("i") ? m[2] : m[2] + "i");
        return (d) => re.test(d.text) || (!!d.pair && re.test(d.pair));
      } catch (e) { return `bad regex: ${(e as Error).message}`; }
    }
    const words = f.toLowerCase().split(/\s+/);
    return (d) => { const t = (d.text + " " + (d.pair ?? "") + " " + goldName(d)).toLowerCase(); return words.every((w) => t.includes(w)); };
  }

  function refresh(): void {
    index.clear();
    store.examples.forEach((e, i) => index.set(e.id ?? "", i));
    const m = matcher();
    filterBox.classList.toggle("invalid", typeof m === "string");
    filterBox.title = typeof m === "string" ? m : "";
    const keep = typeof m === "string" ? () => true : m;
    const cell = store.cellFilter;
    rows = store.examples.filter((d) => keep(d) && (!starredOnly || store.starred.has(d.id ?? "")) && (!cell || cell.ids.has(d.id ?? ""))
      && (!disagreeOnly || modelsDisagree(store, d.id ?? "") === true));
    cellChip.hidden = !cell;
    cellChip.textContent = cell ? `× ${cell.label}` : "";
    const col = columns.find((c) => c.key === sortKey)!;
    rows.sort((a, b) => {
      const x = col.value(a), y = col.value(b);
      const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return r * sortDir;
    });
    for (const el of header.querySelectorAll<HTMLElement>(".sortable")) {
      el.classList.toggle("asc", el.dataset.key === sortKey && sortDir > 0);
      el.classList.toggle("desc", el.dataset.key === sortKey && sortDir < 0);
    }
    count.textContent = `${rows.length} of ${store.examples.length} rows`;
    spacer.style.height = `${rows.length * ROW}px`;
    render();
  }

  function render(): void {
    const top = viewport.scrollTop;
    const height = viewport.clientHeight || 500;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + 5);
    clear(body);
    body.style.transform = `translateY(${first * ROW}px)`;
    for (let i = first; i < last; i++) body.append(rowEl(rows[i]));
  }

  function rowEl(d: Datapoint): HTMLElement {
    const id = d.id ?? "";
    const classes = ["row", "data-row"];
    if (id === store.selectedId) classes.push("selected");
    if (id === store.pinnedId) classes.push("pinned");
    if (d.source) classes.push("added");
    const el = h("div", { class: classes.join(" "), style: `grid-template-columns:${template}`, "data-id": id, onclick: () => store.select(id) });
    el.append(
      h("button", { class: "icon" + (store.starred.has(id) ? " on" : ""), title: "star", onclick: (e: Event) => { e.stopPropagation(); if (!store.starred.delete(id)) store.starred.add(id); render(); } }, store.starred.has(id) ? "★" : "☆"),
      h("button", { class: "icon" + (store.pinnedId === id ? " on" : ""), title: "pin as reference", onclick: (e: Event) => { e.stopPropagation(); store.pin(store.pinnedId === id ? null : id); } }, "⚑"),
    );
    for (const c of columns) {
      const v = c.value(d);
      el.append(h("div", { class: `cell c-${c.key}`, title: String(v) }, typeof v === "number" && c.key === "score" ? fmt(v) : typeof v === "number" && (c.key === "predicted" || c.key.startsWith("pred:")) ? fmt(v) : String(v)));
    }
    return el;
  }

  function exportCsv(): void {
    const q = (s: string | number) => { const t = String(s); return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t; };
    const lines = [["starred", "pinned", ...columns.map((c) => c.title)].map(q).join(",")];
    for (const d of rows) lines.push([store.starred.has(d.id ?? "") ? 1 : 0, store.pinnedId === d.id ? 1 : 0, ...columns.map((c) => c.value(d))].map(q).join(","));
    const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `${store.dataset ?? "data"}-${store.model.name}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
  }

  store.on("predictions", () => refresh());
  store.on("compare-predictions", () => refresh());
  store.on("examples", () => refresh());
  function reveal(): void {
    const i = rows.findIndex((r) => r.id === store.selectedId);
    if (i >= 0 && (i * ROW < viewport.scrollTop || (i + 1) * ROW > viewport.scrollTop + (viewport.clientHeight || 420))) viewport.scrollTop = Math.max(0, i * ROW - 2 * ROW);
    render();
  }
  store.on("selection", reveal);
  store.on("pin", () => render());
  // A shared link may select any row: show it once the table exists.
  queueMicrotask(() => { refresh(); requestAnimationFrame(reveal); });
  new ResizeObserver(() => render()).observe(viewport);

  return panel("data-table", "Data table", h("div", { class: "toolbar" }, filterBox, starToggle, disagreeToggle, cellChip, exportBtn, count), h("div", { class: "table" }, header, viewport));
}
