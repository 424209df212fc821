// TCAV module (after LIT's): a concept is a set of rows of the current dataset — the starred rows,
// the rows matching a slice (words or /regex/), or the confusion-matrix cell shown in the table —
// optionally contrasted with a second set (relative TCAV) instead of random rows. Pick the class
// and the hook points, run, and read one row per layer: the TCAV score against the random runs'
// scores, the t-test p-value, whether it is significant, the CAV's held-out accuracy and the
// result in words. The numbers are the server's (Glassbox.Explain.Concepts.Tcav).
import { conceptApi, type Datapoint, type TcavResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import type { Store } from "./state";

type Source = "starred" | "slice" | "cell" | "random";

/** Rows matching a slice expression: every word (case-insensitive) or /regex/flags, as the data table's filter. */
export function sliceMatcher(expr: string): ((d: Datapoint) => boolean) | string {
  const f = expr.trim();
  if (!f) return "the slice is empty: type words or /regex/";
  const m = /^\/(.*)\/([a-z]*)$/.exec(f);
  if (m) {
    try {
      const re = new RegExp(m[1], m[2].includes("i") ? m[2] : m[2] + "i");
      return (d) => re.test(d.text);
    } catch (e) { return `bad regex: ${(e as Error).message}`; }
  }
  const words = f.toLowerCase().split(/\s+/);
  return (d) => { const t = d.text.toLowerCase(); return words.every((w) => t.includes(w)); };
}

export function tcavModule(store: Store): HTMLElement {
  const info = store.model.concepts!.tcav!;
  const min = info.minConceptExamples;

  const sourceSel = (name: string, withRandom: boolean) => h("select", { class: `tcav-${name}-source`, "aria-label": `${name} examples` },
    ...(withRandom ? [h("option", { value: "random" }, "random rows (absolute TCAV)")] : []),
    h("option", { value: "starred" }, "starred rows"),
    h("option", { value: "slice" }, "rows matching a slice"),
    h("option", { value: "cell" }, "the confusion-matrix cell"));
  const conceptSrc = sourceSel("concept", false);
  const conceptSlice = h("input", { type: "text", class: "tcav-concept-slice", placeholder: "slice: words or /regex/, e.g. /\\bnot\\b/", "aria-label": "concept slice" });
  const conceptName = h("input", { type: "text", class: "tcav-concept-name", placeholder: "concept name", "aria-label": "concept name" });
  const conceptCount = h("span", { class: "tcav-concept-count hint" });
  const negativeSrc = sourceSel("negative", true);
  const negativeSlice = h("input", { type: "text", class: "tcav-negative-slice", placeholder: "slice: words or /regex/", "aria-label": "negative slice" });
  const negativeCount = h("span", { class: "tcav-negative-count hint" });

  const classSel = h("select", { class: "tcav-class", "aria-label": "class" }, ...store.model.labels.map((l) => h("option", { value: l }, l)));
  const fromSel = h("select", { class: "tcav-class-examples", "aria-label": "class examples" },
    h("option", { value: "predicted" }, "rows predicted as the class"), h("option", { value: "gold" }, "rows labelled with the class"));
  const layerSel = h("select", { class: "tcav-layers", multiple: true, size: Math.min(8, info.layers.length), "aria-label": "layers" },
    ...info.layers.map((l) => h("option", { value: l, selected: info.defaultLayers.includes(l) }, l)));
  const pooling = h("select", { class: "tcav-pooling", "aria-label": "pooling" }, h("option", { value: "cls" }, "CLS"), h("option", { value: "mean" }, "mean"));
  const runs = h("input", { type: "number", class: "tcav-runs", min: 2, max: info.maxRuns, value: info.defaultRuns, "aria-label": "runs" });
  const seed = h("input", { type: "number", class: "tcav-seed", value: 0, "aria-label": "seed" });
  const runBtn = h("button", { class: "tcav-run" }, "Run TCAV");
  const cancelBtn = h("button", { class: "tcav-cancel", hidden: true }, "Cancel");
  const busy = h("span", { class: "busy", role: "status", hidden: true }, h("span", { class: "spinner" }), h("span", { class: "busy-label" }));
  const status = h("p", { class: "tcav-status hint" });
  const results = h("div", { class: "tcav-results" });
  let ctrl: AbortController | null = null;

  /** The ids a source names now, or a sentence saying why there are none. */
  function ids(src: Source, slice: string): string[] | string {
    if (src === "starred") return store.examples.filter((e) => e.id && store.starred.has(e.id)).map((e) => e.id!);
    if (src === "cell") {
      if (!store.cellFilter) return "no confusion-matrix cell is chosen (click a cell in the metrics module)";
      return [...store.cellFilter.ids];
    }
    const m = sliceMatcher(slice);
    if (typeof m === "string") return m;
    return store.examples.filter((e) => e.id && m(e)).map((e) => e.id!);
  }

  function describe(src: Source, slice: string): string {
    if (src === "starred") return "starred rows";
    if (src === "cell") return store.cellFilter?.label ?? "confusion-matrix cell";
    return slice.trim() || "slice";
  }

  function refresh(): void {
    conceptSlice.hidden = conceptSrc.value !== "slice";
    negativeSlice.hidden = negativeSrc.value !== "slice";
    const c = ids(conceptSrc.value as Source, conceptSlice.value);
    conceptCount.textContent = typeof c === "string" ? c : `${c.length} row${c.length === 1 ? "" : "s"}${c.length < min ? ` (at least ${min} needed)` : ""}`;
    conceptCount.classList.toggle("error", typeof c === "string" || c.length < min);
    if (negativeSrc.value === "random") { negativeCount.textContent = "random sets drawn from the other rows"; negativeCount.classList.remove("error"); }
    else {
      const n = ids(negativeSrc.value as Source, negativeSlice.value);
      negativeCount.textContent = typeof n === "string" ? n : `${n.length} row${n.length === 1 ? "" : "s"}${n.length < min ? ` (at least ${min} needed)` : ""}`;
      negativeCount.classList.toggle("error", typeof n === "string" || n.length < min);
    }
  }

  async function run(): Promise<void> {
    const c = ids(conceptSrc.value as Source, conceptSlice.value);
    if (typeof c === "string") { status.textContent = c; status.className = "tcav-status error"; return; }
    const negative = negativeSrc.value === "random" ? null : ids(negativeSrc.value as Source, negativeSlice.value);
    if (typeof negative === "string") { status.textContent = negative; status.className = "tcav-status error"; return; }
    const layers = [...layerSel.selectedOptions].map((o) => o.value);
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    const started = performance.now();
    const tick = setInterval(() => { busy.querySelector(".busy-label")!.textContent = ` running TCAV… ${((performance.now() - started) / 1000).toFixed(0)} s`; }, 250);
    busy.hidden = false; cancelBtn.hidden = false; runBtn.disabled = true;
    busy.querySelector(".busy-label")!.textContent = " running TCAV…";
    status.textContent = ""; status.className = "tcav-status hint";
    try {
      const r = await conceptApi.tcav({
        model: store.model.name, dataset: store.dataset!, conceptIds: c, conceptName: conceptName.value.trim() || describe(conceptSrc.value as Source, conceptSlice.value),
        negativeIds: negative ?? undefined, negativeName: negative ? describe(negativeSrc.value as Source, negativeSlice.value) : undefined,
        class: classSel.value, layers, pooling: pooling.value as "cls" | "mean", runs: Number(runs.value), seed: Number(seed.value),
        classExamples: fromSel.value as "predicted" | "gold",
      }, signal);
      draw(r);
    } catch (e) {
      if (!signal.aborted) { status.textContent = (e as Error).message; status.className = "tcav-status error"; }
      else status.textContent = "cancelled";
    } finally {
      clearInterval(tick);
      if (ctrl?.signal === signal) { busy.hidden = true; cancelBtn.hidden = true; runBtn.disabled = false; }
    }
  }

  const pv = (p: number | undefined | null): string => p === undefined || p === null ? "–" : p < 0.001 ? "< 0.001" : fmt(p, 3);

  function draw(r: TcavResponse): void {
    clear(results);
    status.textContent = `'${r.concept}'${r.negative ? ` vs '${r.negative}'` : ""} (${r.conceptExamples} rows) · class ${r.className} scored on ${r.classExamples} ${r.classExamplesFrom === "gold" ? "labelled" : "predicted"} rows · ${r.runs} runs · seed ${r.seed} · ${fmt(r.seconds, 1)} s`;
    const t = h("table", { class: "tcav-table" }, h("tr", {},
      h("th", {}, "layer"), h("th", {}, "TCAV score"), h("th", {}, "random runs"), h("th", {}, "p-value"),
      h("th", {}, "significant"), h("th", {}, "CAV accuracy")));
    for (const x of r.results) {
      t.append(h("tr", { class: "tcav-row" + (x.significant ? " significant" : ""), "data-layer": x.layer },
        h("td", { class: "layer" }, x.layer),
        h("td", { class: "score num", title: `runs: ${x.runScores.map((v) => fmt(v, 2)).join(", ")}` },
          h("div", { class: "tcav-bar" }, h("div", { style: `width:${(100 * x.score).toFixed(1)}%` })), `${fmt(x.score)} ± ${fmt(x.scoreStd, 2)}`),
        h("td", { class: "random num", title: `random runs: ${x.randomScores.map((v) => fmt(v, 2)).join(", ")}` }, `${fmt(x.randomMean)} ± ${fmt(x.randomStd, 2)}`),
        h("td", { class: "p num", title: `score t-test p = ${pv(x.scorePValue)}; CAV-accuracy test p = ${pv(x.cavPValue)} (the p-value shown is the larger)` }, pv(x.pValue)),
        h("td", { class: "sig", title: x.significant ? `p < ${r.alpha}` : `p ≥ ${r.alpha}: not distinguishable from random concepts` }, x.significant ? "✓" : "✗"),
        h("td", { class: "acc num", title: "held-out accuracy of the concept's CAVs (random concepts' CAVs in brackets)" },
          fmt(x.cavAccuracy, 2) + (x.randomCavAccuracy !== undefined && x.randomCavAccuracy !== null ? ` (${fmt(x.randomCavAccuracy, 2)})` : ""))),
        // The result in words, under its numbers.
        h("tr", { class: "tcav-sentence", "data-layer": x.layer }, h("td", { class: "summary", colspan: 6 }, x.summary)));
    }
    results.append(t, h("p", { class: "hint" }, "A score is significant only when the t-test separates the concept's runs from random-vs-random runs and its CAVs beat random concepts' CAVs on held-out rows (hover the p-value for both tests); a score near the random mean means no effect."));
  }

  runBtn.addEventListener("click", () => void run());
  cancelBtn.addEventListener("click", () => { ctrl?.abort(); busy.hidden = true; cancelBtn.hidden = true; runBtn.disabled = false; });
  for (const el of [conceptSrc, negativeSrc]) el.addEventListener("change", refresh);
  for (const el of [conceptSlice, negativeSlice]) el.addEventListener("input", refresh);
  for (const topic of ["examples", "selection", "predictions"]) store.on(topic, refresh);
  // Stars are toggled in the table without an event of their own (and the star button stops the click's bubbling):
  // recount after any click, once the table's handler has run.
  document.addEventListener("click", () => setTimeout(refresh, 0), true);
  queueMicrotask(refresh);

  return panel("tcav", "TCAV (concepts)",
    h("div", { class: "toolbar" }, h("span", {}, "concept "), conceptSrc, conceptSlice, conceptName, conceptCount),
    h("div", { class: "toolbar" }, h("span", {}, "against "), negativeSrc, negativeSlice, negativeCount),
    h("div", { class: "toolbar" }, h("span", {}, "class "), classSel, h("span", {}, " scored on "), fromSel),
    h("div", { class: "toolbar tcav-layer-bar" }, h("label", {}, "layers (ctrl/shift-click for several) ", layerSel)),
    h("div", { class: "toolbar" }, h("label", {}, "pooling ", pooling), h("label", {}, "runs ", runs), h("label", {}, "seed ", seed), runBtn, cancelBtn, busy),
    status, results);
}
