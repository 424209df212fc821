// Dataset-level modules, shown when /api/info lists them for the model: metrics per slice and
// facet with a clickable confusion matrix, and counterfactual generators with review-then-add.
// (The embeddings projector is in projector.ts.) Facets: gold label, prediction, correctness,
// text length and every field of the dataset; numeric ones are binned on the server (quantile or
// equal-width, 2-10 bins), categorical ones give a slice per value. Click a slice to show its rows.
import { analysisApi, api, asInput, facetApi, type GeneratedDatapoint, type MetricsResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import { goldIndex, type Store } from "./state";

export function metricsModule(store: Store): HTMLElement {
  const spec = store.info.datasets.find((d) => d.name === store.dataset)?.spec ?? {};
  const extra = Object.entries(spec).filter(([k]) => !["id", "text", "pair", "label"].includes(k));
  const numeric = new Set(["length", ...extra.filter(([, f]) => f.type === "Scalar").map(([k]) => `field:${k}`)]);
  const classification = store.model.task === "classification";
  const facet = h("select", { class: "facet", "aria-label": "slice by" },
    h("option", { value: "" }, "whole dataset"),
    classification ? h("option", { value: "label" }, "by gold label") : null,
    classification ? h("option", { value: "predicted" }, "by prediction") : null,
    classification ? h("option", { value: "correctness" }, "by correctness") : null,
    h("option", { value: "length" }, "by length (words)"),
    ...extra.map(([k, f]) => h("option", { value: `field:${k}` }, `by ${k}${f.type === "Scalar" ? " (numeric)" : ""}`)));
  const binning = h("select", { class: "binning", "aria-label": "binning" }, h("option", { value: "quantile" }, "quantile bins"), h("option", { value: "equal-width" }, "equal-width bins"));
  const bins = h("select", { class: "bins", "aria-label": "number of bins" }, ...[2, 3, 4, 5, 6, 8, 10].map((n) => h("option", { value: n, selected: n === 4 }, String(n))));
  const body = h("div", { class: "metrics-body" }, h("p", { class: "hint" }, "computing metrics…"));
  let seq = 0;
  async function load(): Promise<void> {
    const my = ++seq;
    const isNumeric = numeric.has(facet.value);
    binning.hidden = bins.hidden = !isNumeric;
    try {
      const r = await facetApi.metrics(store.model.name, store.dataset!, facet.value || null, isNumeric ? binning.value : null, isNumeric ? Number(bins.value) : null);
      if (my === seq) draw(r);
    } catch (e) { if (my === seq) { clear(body); body.append(h("p", { class: "error" }, (e as Error).message)); } }
  }
  function draw(r: MetricsResponse): void {
    clear(body);
    const t = h("table", { class: "metrics" }, h("tr", {}, h("th", {}, "slice"), h("th", {}, "n"), h("th", {}, "accuracy"), h("th", {}, "macro F1"), h("th", {}, "ROC AUC")));
    for (const s of r.slices) {
      t.append(h("tr", { class: "slice-row", "data-slice": s.slice, title: "show this slice's rows in the table", onclick: () => {
        store.cellFilter = s.slice === "all" ? null : { label: s.slice, ids: new Set(s.ids) };
        store.emit("examples");
      } }, h("td", {}, s.slice), h("td", {}, String(s.count)),
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
  binning.addEventListener("change", () => void load());
  bins.addEventListener("change", () => void load());
  binning.hidden = bins.hidden = true;
  store.on("predictions-done", () => void load());
  return panel("metrics", "Metrics", h("div", { class: "toolbar" }, h("span", {}, "slices "), facet, binning, bins), body);
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
