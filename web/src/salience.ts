// Salience maps: one row per attribution method for the selected datapoint, each token (or word)
// shaded by its normalised score (red supports the target, blue opposes it). Methods with
// autorun on are computed whenever the selection changes; the others on "Run". The target is
// the predicted class by default and can be any class (or QA start/end, or a token for NER).
import { api, asInput, type InterpretResponse, type SalienceResult } from "./api";
import { clear, fmt, h, panel, salienceColor } from "./dom";
import type { Store } from "./state";
import { hierarchyView } from "./hierarchy";

const FAST = new Set(["saliency", "input-x-gradient", "attention", "occlusion"]);
const TITLES: Record<string, string> = {
  lig: "layer integrated gradients", ig: "integrated gradients", saliency: "gradient (saliency)", "input-x-gradient": "input × gradient",
  smoothgrad: "SmoothGrad", occlusion: "occlusion", lime: "LIME", "kernel-shap": "KernelSHAP", attention: "attention", rollout: "attention rollout", flow: "attention flow",
};

export function salienceModule(store: Store): HTMLElement {
  const methods = store.model.interpreters;
  if (store.methods.length === 0) store.methods = methods.filter((m) => m === "lig" || FAST.has(m)).slice(0, 3);
  let granularity: "token" | "word" = "token";
  let target: string | null = null;
  let targets: string[] = [];
  // Keyed by method (one model) or model + "\u0000" + method (models compared: one block per model).
  const results = new Map<string, SalienceResult | string>();
  const models = store.models.length > 1 ? store.models : [store.model];
  const key = (model: string, m: string) => (models.length > 1 ? `${model}\u0000${m}` : m);
  let ctrl: AbortController | null = null;

  const targetSel = h("select", { class: "target", "aria-label": "target", onchange: () => { target = targetSel.value; results.clear(); void runAll(true); } });
  const gran = h("select", { class: "granularity", "aria-label": "granularity", onchange: () => { granularity = gran.value as "token" | "word"; draw(); } },
    h("option", { value: "token" }, "tokens"), h("option", { value: "word" }, "words"));
  const toggles = h("div", { class: "method-toggles" });
  for (const m of methods) {
    const box = h("input", { type: "checkbox", "data-method": m, checked: store.methods.includes(m) }) as HTMLInputElement;
    box.addEventListener("change", () => {
      store.methods = box.checked ? [...store.methods, m] : store.methods.filter((x) => x !== m);
      store.syncUrl();
      if (box.checked) void runAll(false); else draw();
    });
    toggles.append(h("label", { title: TITLES[m] ?? m }, box, ` ${m}`));
  }
  const runBtn = h("button", { onclick: () => void runAll(true) }, "Run");
  const rows = h("div", { class: "salience-rows" });

  async function runAll(force: boolean): Promise<void> {
    const d = store.selected;
    if (!d) { clear(rows); rows.append(h("p", { class: "hint" }, "Select a datapoint to explain.")); return; }
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    const todo = store.methods.flatMap((m) => models.map((model) => ({ m, model: model.name, k: key(model.name, m) }))).filter((t) => force || !results.has(t.k));
    draw();
    for (const { m, model, k } of todo) {
      if (!models.find((x) => x.name === model)!.interpreters.includes(m)) { results.set(k, `${m} is not available for ${model}`); continue; }
      results.set(k, "running…");
      draw();
      try {
        const r: InterpretResponse = await api.interpret(model, asInput(d), [m], target, signal);
        if (model === store.model.name) {
          targets = r.targets;
          if (target === null || !targets.includes(target)) target = r.target;
          syncTargets();
        }
        results.set(k, r.results[0]);
      } catch (e) {
        if (signal.aborted) return;
        results.set(k, `error: ${(e as Error).message}`);
      }
      draw();
    }
  }

  function syncTargets(): void {
    const labelOf = (t: string) => store.model.task === "token-classification" ? `token ${t}` : t;
    if (targetSel.options.length !== targets.length || [...targetSel.options].some((o, i) => o.value !== targets[i])) {
      clear(targetSel);
      for (const t of targets) targetSel.append(h("option", { value: t }, labelOf(t)));
    }
    if (target) targetSel.value = target;
  }

  function draw(): void {
    clear(rows);
    for (const m of store.methods) {
      const row = h("div", { class: "salience-row", "data-method": m }, h("div", { class: "method-name", title: TITLES[m] ?? m }, m));
      if (models.length === 1) drawResult(row, results.get(m));
      else for (const model of models) {
        const block = h("div", { class: "salience-model", "data-model": model.name }, h("div", { class: "model-name" }, model.name));
        drawResult(block, results.get(key(model.name, m)));
        row.append(block);
      }
      rows.append(row);
    }
  }

  function drawResult(row: HTMLElement, r: SalienceResult | string | undefined): void {
    if (r === undefined) row.append(h("span", { class: "hint" }, "not run"));
    else if (typeof r === "string") row.append(h("span", { class: r.startsWith("error") ? "error" : "hint" }, r));
    else {
      const line = h("div", { class: "tokens" });
      const items = granularity === "word"
        ? r.words.map((w) => ({ text: w.word, score: w.score, special: false }))
        : r.tokens.map((t) => ({ text: t.token, score: t.score, special: t.special }));
      for (const it of items) {
        line.append(h("span", { class: "tok" + (it.special ? " special" : ""), style: `background:${salienceColor(it.score)}`, title: `${it.text}: ${fmt(it.score)}` }, it.text));
      }
      row.append(line, h("span", { class: "meta" }, `${r.target} · ${fmt(r.seconds, 2)} s` + (r.convergenceDelta !== undefined ? ` · δ ${fmt(r.convergenceDelta, 4)}` : "")));
      if (r.warnings.length) row.title = r.warnings.join("\n");
    }
  }

  store.on("selection", () => { results.clear(); target = null; void runAll(true); });
  queueMicrotask(() => void runAll(true));
  return panel("salience", "Salience maps",
    h("div", { class: "toolbar" }, h("span", {}, "target "), targetSel, h("span", {}, " show "), gran, runBtn),
    h("div", { class: "toolbar" }, h("span", {}, "autorun: "), toggles), rows,
    hierarchyView(store, () => target));
}
