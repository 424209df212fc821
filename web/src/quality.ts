// Explanation quality: how faithful each salience method is on the selected datapoint (ERASER's
// comprehensiveness and sufficiency, AOPC, deletion/insertion areas, Kendall τ against
// leave-one-out), beside a random ranking every method should beat. One row per method; the best
// value of each column is bold, and the arrow in the header says which direction is better.
import { exampleApi, type QualityResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import { afterFirstPredictions } from "./lm";
import type { Store } from "./state";

const NAMES: Record<string, string> = {
  comprehensiveness: "comprehensiveness", sufficiency: "sufficiency", aopc: "AOPC", deletionArea: "deletion AUC", insertionArea: "insertion AUC", kendallTauLoo: "τ vs LOO",
};
const DEFAULT = ["lig", "saliency", "input-x-gradient", "occlusion"];

export function qualityModule(store: Store): HTMLElement {
  const available = store.model.analysis?.qualityMethods ?? [];
  let chosen = (store.methods.length ? store.methods : DEFAULT).filter((x) => available.includes(x));
  if (chosen.length === 0) chosen = available.slice(0, 2);
  const toggles = h("div", { class: "method-toggles" });
  for (const x of available) {
    const box = h("input", { type: "checkbox", "data-quality-method": x, checked: chosen.includes(x) }) as HTMLInputElement;
    box.addEventListener("change", () => { chosen = box.checked ? [...chosen, x] : chosen.filter((y) => y !== x); });
    toggles.append(h("label", {}, box, ` ${x}`));
  }
  const targetSel = h("select", { class: "quality-target", "aria-label": "quality target" },
    h("option", { value: "predicted" }, "predicted class"), h("option", { value: "label" }, "gold label"));
  const runBtn = h("button", { class: "quality-run", onclick: () => void run() }, "Score");
  const status = h("span", { class: "hint" });
  const out = h("div", { class: "quality-out" });
  let ctrl: AbortController | null = null;

  async function run(): Promise<void> {
    const d = store.selected;
    clear(out);
    if (!d) { status.textContent = "Select a datapoint."; return; }
    if (chosen.length === 0) { status.textContent = "Choose at least one method."; return; }
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    status.textContent = `scoring ${chosen.length} method${chosen.length > 1 ? "s" : ""}…`;
    try {
      draw(await exampleApi.quality(store.model.name, d, available.filter((x) => chosen.includes(x)), targetSel.value, signal));
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = `error: ${(e as Error).message}`;
    }
  }

  function draw(r: QualityResponse): void {
    status.textContent = `target ${r.target} (p ${fmt(r.targetProbability)}) · ${r.textTokens} text tokens`;
    const best = new Map<string, number>();
    for (const k of r.metrics) {
      const vals = r.methods.map((x) => x.metrics[k]).filter((v): v is number => v !== null && v !== undefined);
      if (vals.length) best.set(k, r.higherIsBetter[k] ? Math.max(...vals) : Math.min(...vals));
    }
    const table = h("table", { class: "metrics quality-table" });
    table.append(h("tr", {}, h("th", {}, "method"), ...r.metrics.map((k) => h("th", { title: r.higherIsBetter[k] ? "higher is better" : "lower is better" }, `${NAMES[k] ?? k} ${r.higherIsBetter[k] ? "↑" : "↓"}`))));
    for (const x of r.methods) {
      table.append(h("tr", { class: x.baseline ? "baseline" : "", "data-method": x.method },
        h("td", {}, x.baseline ? "random (baseline)" : x.method),
        ...r.metrics.map((k) => {
          const v = x.metrics[k];
          return h("td", { class: "num" + (v !== null && v !== undefined && best.get(k) === v ? " best" : "") }, v === null || v === undefined ? "–" : fmt(v));
        })));
    }
    out.append(table);
    if (r.warnings.length) out.append(h("p", { class: "warning" }, r.warnings.join(" ")));
  }

  store.on("selection", () => void run());
  afterFirstPredictions(store, () => void run());
  return panel("explanation-quality", "Explanation quality",
    h("div", { class: "toolbar" }, h("span", {}, "target "), targetSel, runBtn, status),
    h("div", { class: "toolbar" }, toggles), out,
    h("p", { class: "hint" }, "Tokens are removed in order of attribution (ERASER): comprehensiveness = drop in p when the top tokens go, sufficiency = drop when only they stay."));
}
