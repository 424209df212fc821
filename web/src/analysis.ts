// Dataset-level modules, shown when /api/info lists them for the model: metrics per slice with a
// clickable confusion matrix, the embeddings projector (PCA, 2-D or 3-D with drag-to-rotate,
// zoom, colour by field, click to select) and counterfactual generators with review-then-add.
import { analysisApi, api, asInput, type GeneratedDatapoint, type MetricsResponse, type ProjectResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import { goldIndex, type Store } from "./state";

export function metricsModule(store: Store): HTMLElement {
  const facet = h("select", { class: "facet", "aria-label": "slice by" },
    h("option", { value: "" }, "whole dataset"), h("option", { value: "label" }, "by gold label"),
    h("option", { value: "predicted" }, "by prediction"), h("option", { value: "correctness" }, "by correctness"));
  const body = h("div", { class: "metrics-body" }, h("p", { class: "hint" }, "computing metrics…"));
  async function load(): Promise<void> {
    try { draw(await analysisApi.metrics(store.model.name, store.dataset!, facet.value || null)); }
    catch (e) { clear(body); body.append(h("p", { class: "error" }, (e as Error).message)); }
  }
  function draw(r: MetricsResponse): void {
    clear(body);
    const t = h("table", { class: "metrics" }, h("tr", {}, h("th", {}, "slice"), h("th", {}, "n"), h("th", {}, "accuracy"), h("th", {}, "macro F1"), h("th", {}, "ROC AUC")));
    for (const s of r.slices) {
      t.append(h("tr", { class: "slice-row" }, h("td", {}, s.slice), h("td", {}, String(s.count)),
        h("td", {}, s.accuracy !== undefined ? fmt(s.accuracy) : s.regression ? `MSE ${fmt(s.regression.meanSquaredError)}` : "–"),
        h("td", {}, s.macroF1 !== undefined ? fmt(s.macroF1) : s.regression ? `r ${fmt(s.regression.pearson)}` : "–"),
        h("td", {}, s.rocAuc !== undefined && s.rocAuc !== null ? fmt(s.rocAuc) : "–")));
    }
    body.append(t);
    if (r.skipped) body.append(h("p", { class: "hint" }, `${r.skipped} examples without a usable gold label are left out.`));
    const all = r.slices[0];
    if (all.confusionMatrix) {
      const cm = h("table", { class: "confusion" }, h("tr", {}, h("th", {}, "gold ↓ / predicted →"), ...r.labels.map((l) => h("th", {}, l))));
      all.confusionMatrix.forEach((row, g) => {
        cm.append(h("tr", {}, h("th", {}, r.labels[g]), ...row.map((n, p) => h("td", {
          class: "cell" + (g === p ? " diag" : ""), title: "select these examples in the table",
          onclick: () => {
            const ids = all.ids.filter((id) => {
              const d = store.byId(id); const pr = store.predictions.get(id);
              return d && pr && goldIndex(r.labels, d.label) === g && pr.labelIndex === p;
            });
            store.cellFilter = { label: `gold ${r.labels[g]}, predicted ${r.labels[p]}`, ids: new Set(ids) };
            store.emit("examples");
            if (ids.length) store.select(ids[0]);
          },
        }, String(n)))));
      });
      body.append(h("h3", {}, "confusion matrix (click a cell to show its examples in the table)"), cm);
    }
  }
  facet.addEventListener("change", () => void load());
  store.on("predictions-done", () => void load());
  return panel("metrics", "Metrics", h("div", { class: "toolbar" }, h("span", {}, "slices "), facet), body);
}

export function projectorModule(store: Store): HTMLElement {
  const dims = h("select", { class: "dims", "aria-label": "projection" },
    ...store.model.projections.flatMap((m) => [2, 3].map((d) => h("option", { value: `${m}:${d}` }, `${m.toUpperCase()} ${d}-D`))));
  const colour = h("select", { class: "colour", "aria-label": "colour by" }, h("option", { value: "label" }, "colour: gold label"), h("option", { value: "predicted" }, "colour: prediction"), h("option", { value: "correct" }, "colour: correct?"));
  const status = h("span", { class: "hint" });
  const W = 460, H = 340;
  const canvas = h("canvas", { width: W, height: H, class: "projector-canvas" });
  let data: ProjectResponse | null = null;
  let yaw = 0.6, pitch = 0.3, zoom = 1;
  let drag: { x: number; y: number } | null = null;
  let screen: { id: string; x: number; y: number }[] = [];
  const palette = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d"];

  async function load(): Promise<void> {
    const [method, d] = dims.value.split(":");
    status.textContent = method === "umap" ? "computing UMAP (the page stays usable)…" : "projecting…";
    try { data = await analysisApi.project(store.model.name, store.dataset!, method, Number(d)); status.textContent = data.explainedVarianceRatio ? `explained variance ${data.explainedVarianceRatio.map((v) => fmt(v, 2)).join(", ")}` : ""; draw(); }
    catch (e) { status.textContent = (e as Error).message; }
  }
  function colourOf(id: string): string {
    const d = store.byId(id); const p = store.predictions.get(id);
    const gi = goldIndex(store.model.labels, d?.label);
    if (colour.value === "predicted") return palette[(p?.labelIndex ?? 0) % palette.length];
    if (colour.value === "correct") return p && gi !== null ? (p.labelIndex === gi ? "#059669" : "#dc2626") : "#9ca3af";
    return gi === null ? "#9ca3af" : palette[gi % palette.length];
  }
  function draw(): void {
    const ctx = canvas.getContext("2d");
    if (!ctx || !data) return;
    ctx.clearRect(0, 0, W, H);
    const pts = data.points;
    const scale = Math.max(1e-9, ...pts.map((p) => Math.hypot(...p))) ;
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    screen = pts.map((p, i) => {
      let [x, y, z] = [p[0] / scale, p[1] / scale, (p[2] ?? 0) / scale];
      if (data!.dimensions === 3) { [x, z] = [x * cy + z * sy, -x * sy + z * cy]; [y, z] = [y * cp - z * sp, y * sp + z * cp]; }
      return { id: data!.ids[i], x: W / 2 + x * zoom * W * 0.45, y: H / 2 - y * zoom * H * 0.45 };
    });
    for (const s of screen) {
      ctx.fillStyle = colourOf(s.id);
      ctx.globalAlpha = 0.7;
      ctx.beginPath(); ctx.arc(s.x, s.y, s.id === store.selectedId ? 6 : 3, 0, Math.PI * 2); ctx.fill();
      if (s.id === store.selectedId) { ctx.globalAlpha = 1; ctx.strokeStyle = "#111827"; ctx.lineWidth = 2; ctx.stroke(); }
    }
    ctx.globalAlpha = 1;
  }
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, y: e.offsetY }; });
  canvas.addEventListener("mousemove", (e) => {
    if (!drag || !data || data.dimensions !== 3) return;
    yaw += (e.offsetX - drag.x) * 0.01; pitch += (e.offsetY - drag.y) * 0.01; drag = { x: e.offsetX, y: e.offsetY }; draw();
  });
  canvas.addEventListener("mouseup", (e) => {
    const moved = drag && Math.hypot(e.offsetX - drag.x, e.offsetY - drag.y) > 3;
    drag = null;
    if (moved) return;
    let best: { id: string; d: number } | null = null;
    for (const s of screen) { const d = Math.hypot(s.x - e.offsetX, s.y - e.offsetY); if (d < 8 && (!best || d < best.d)) best = { id: s.id, d }; }
    if (best) store.select(best.id);
  });
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); zoom *= e.deltaY < 0 ? 1.1 : 1 / 1.1; draw(); }, { passive: false });
  dims.addEventListener("change", () => void load());
  colour.addEventListener("change", () => draw());
  store.on("selection", () => draw());
  store.on("predictions", () => draw());
  queueMicrotask(() => void load());
  return panel("projector", "Embeddings projector (last block, first token)", h("div", { class: "toolbar" }, dims, colour, status), canvas,
    h("p", { class: "hint" }, "3-D: drag to rotate, wheel to zoom; click a point to select it."));
}

export function generatorsModule(store: Store): HTMLElement {
  const gen = h("select", { class: "generator", "aria-label": "generator" }, ...store.model.generators.map((g) => h("option", { value: g }, g)));
  const rules = h("input", { type: "text", class: "rules", placeholder: "rules: great -> terrible|awful, good -> bad", "aria-label": "word replacer rules" });
  const status = h("span", { class: "hint" });
  const list = h("div", { class: "cf-list" });
  let found: GeneratedDatapoint[] = [];
  async function run(): Promise<void> {
    const d = store.selected;
    if (!d) { status.textContent = "select a datapoint first"; return; }
    status.textContent = "generating…";
    clear(list);
    try {
      found = (await analysisApi.generate(store.model.name, gen.value, asInput(d), gen.value === "word-replacer" ? rules.value : null)).counterfactuals;
      status.textContent = `${found.length} counterfactual(s); tick the ones to add`;
      for (const [i, c] of found.entries()) {
        list.append(h("label", { class: "cf" + (c.flipped ? " flipped" : "") }, h("input", { type: "checkbox", "data-index": i }),
          ` ${c.text} `, h("span", { class: "hint" }, `→ ${c.predictedLabel ?? ""} ${c.probability !== undefined ? fmt(c.probability) : ""}${c.flipped ? " (flipped)" : ""}`)));
      }
    } catch (e) { status.textContent = (e as Error).message; }
  }
  async function add(): Promise<void> {
    const d = store.selected;
    const picked = [...list.querySelectorAll<HTMLInputElement>("input:checked")].map((b) => found[Number(b.dataset.index)]);
    if (!d || !picked.length || !store.dataset) return;
    const saved = await api.save(store.dataset, picked.map((c) => ({ text: c.text, label: d.label ?? null, parentId: d.id ?? null, source: c.generator })));
    store.examples.push(...saved.datapoints);
    store.emit("examples");
    status.textContent = `added ${saved.datapoints.length} datapoint(s)`;
    clear(list);
  }
  gen.addEventListener("change", () => { rules.hidden = gen.value !== "word-replacer"; });
  rules.hidden = gen.value !== "word-replacer";
  return panel("generators", "Counterfactuals", h("div", { class: "toolbar" }, gen, rules, h("button", { onclick: () => void run() }, "Generate"),
    h("button", { onclick: () => void add() }, "Add selected")), status, list);
}
