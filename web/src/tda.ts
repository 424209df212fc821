// Training-data attribution: the pool examples nearest to the selected datapoint by cosine
// similarity of the model's pooled representation (the first token leaving the last block), with
// their gold labels — ✓ when a neighbour's gold label is the model's prediction for the datapoint.
// The pool is a labelled served dataset (/api/info lists them per model); clicking a neighbour of
// the current dataset selects it. The first request embeds the whole pool (then it is cached).
import { exampleApi, type NeighboursResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import { afterFirstPredictions } from "./lm";
import type { Store } from "./state";

export function neighboursModule(store: Store): HTMLElement {
  const pools = store.model.analysis?.trainingPools ?? [];
  const poolSel = h("select", { class: "pool", "aria-label": "training pool" });
  for (const p of pools) poolSel.append(h("option", { value: p, selected: p === store.dataset }, p));
  const kInput = h("input", { type: "number", class: "k", min: 1, max: 100, value: 10, "aria-label": "neighbours" }) as HTMLInputElement;
  const status = h("span", { class: "hint" });
  const list = h("div", { class: "neighbours" });
  let ctrl: AbortController | null = null;

  async function run(): Promise<void> {
    const d = store.selected;
    clear(list);
    if (!d) { status.textContent = "Select a datapoint."; return; }
    if (!poolSel.value) { status.textContent = "No labelled dataset can serve as the pool; serve one with --data."; return; }
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    status.textContent = "searching… (the first search embeds the pool)";
    try {
      const r = await exampleApi.neighbours(store.model.name, d, poolSel.value, Math.max(1, Math.min(100, Number(kInput.value) || 10)), signal);
      draw(r);
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = `error: ${(e as Error).message}`;
    }
  }

  function draw(r: NeighboursResponse): void {
    status.textContent = `${r.neighbours.length} of ${r.poolSize} in ${r.pool} · ${r.metric} · ${fmt(r.seconds, 2)} s` + (r.excludedSelf ? " · the datapoint itself left out" : "");
    const selectable = r.pool === store.dataset;
    const table = h("table", { class: "neighbours-table" },
      h("tr", {}, h("th", {}, "#"), h("th", {}, "similarity"), h("th", {}, "gold"), h("th", {}, "text")));
    for (const n of r.neighbours) {
      const verdict = n.sameAsPrediction === undefined || n.sameAsPrediction === null ? "" : n.sameAsPrediction ? " ✓" : " ✗";
      const row = h("tr", {
        class: "neighbour" + (selectable ? " clickable" : ""), "data-id": n.id,
        title: selectable ? `select example ${n.id}` : `example ${n.id} of ${r.pool} (switch to that dataset to select it)`,
        onclick: selectable ? () => store.select(n.id) : undefined,
      },
        h("td", { class: "num" }, String(n.rank)),
        h("td", { class: "sim" }, h("span", { class: "num" }, fmt(n.similarity, 4)), h("div", { class: "sim-bar", style: `width:${(100 * Math.max(0, n.similarity)).toFixed(1)}%` })),
        h("td", { class: "gold" + (n.sameAsPrediction === false ? " differs" : "") }, (n.label ?? "–") + verdict),
        h("td", { class: "text" }, n.text));
      table.append(row);
    }
    list.append(table);
  }

  poolSel.addEventListener("change", () => void run());
  kInput.addEventListener("change", () => void run());
  store.on("selection", () => void run());
  afterFirstPredictions(store, () => void run());
  return panel("nearest-examples", "Nearest training examples",
    h("div", { class: "toolbar" }, h("span", {}, "pool "), poolSel, h("span", {}, " k "), kInput, status), list,
    h("p", { class: "hint" }, "✓ / ✗: the neighbour's gold label is / is not the model's prediction for the selected datapoint."));
}
