// Predictions for the selected datapoint (and the pinned reference beside it), drawn for the
// model's output type: class probabilities, multi-label scores with the 0.5 threshold, a
// regression value, a tag per token, a QA span in its context, or generated text; gold beside predicted.
import { api, asInput, type Datapoint, type Prediction } from "./api";
import { datapointDiff } from "./compare";
import { clear, fmt, h, panel } from "./dom";
import { goldIndex, type Store } from "./state";

/** One prediction drawn as a block (also used by the editor to compare edited and original). */
export function renderPrediction(store: Store, d: Datapoint, p: Prediction): HTMLElement {
  const labels = store.model.labels;
  const box = h("div", { class: "prediction", "data-task": p.task });
  const gi = goldIndex(labels, d.label);
  switch (p.task) {
    case "classification":
    case "multi-label-classification": {
      const multi = p.task !== "classification";
      const goldSet = new Set((d.label ?? "").split(",").map((s) => s.trim()));
      const table = h("table", { class: "probs" });
      table.append(h("tr", {}, h("th", {}, "label"), h("th", {}, "score"), h("th", {}, ""), h("th", {}, "gold")));
      (p.probabilities ?? []).forEach((prob, i) => {
        const on = multi ? prob > 0.5 : i === p.labelIndex;
        const isGold = multi ? goldSet.has(labels[i]) : gi === i;
        table.append(h("tr", { class: on ? "predicted" : "" },
          h("td", { class: "label-name" }, labels[i] ?? `LABEL_${i}`),
          h("td", { class: "num" }, fmt(prob)),
          h("td", { class: "bar" }, h("div", { style: `width:${(prob * 100).toFixed(1)}%` })),
          h("td", {}, isGold ? "●" : "")));
      });
      const verdict = multi ? (p.labels ?? []).join(", ") || "(no label above 0.5)" : p.label ?? "";
      const correct = !multi && gi !== null ? (gi === p.labelIndex ? "correct" : "wrong") : null;
      box.append(h("div", { class: "predicted-label" }, "Predicted: ", h("strong", { class: "pred-label" }, verdict),
        correct ? h("span", { class: `verdict ${correct}` }, correct === "correct" ? " ✓ matches gold" : ` ✗ gold is ${labels[gi!]}`) : null), table);
      break;
    }
    case "regression":
      box.append(h("div", { class: "predicted-label" }, "Predicted value: ", h("strong", { class: "pred-label" }, fmt(p.value ?? NaN)),
        d.label ? h("span", {}, `  gold ${d.label}  (error ${fmt((p.value ?? 0) - Number(d.label))})`) : null));
      break;
    case "token-classification": {
      const line = h("div", { class: "tags" });
      for (const t of p.tags ?? []) {
        if (t.special) continue;
        line.append(h("span", { class: "tag" + (t.tag === "O" ? "" : " entity"), title: `${t.tag} ${fmt(t.probability)}` }, t.token, h("sub", {}, t.tag)));
      }
      box.append(h("div", { class: "predicted-label" }, "Predicted tags:"), line, h("div", { class: "gold" }, d.label ? `gold: ${d.label}` : ""));
      break;
    }
    case "question-answering": {
      const ctx = d.pair ?? "";
      const a = p.answer;
      const context = h("p", { class: "context" });
      if (a && a.start >= 0) context.append(ctx.slice(0, a.start), h("mark", {}, ctx.slice(a.start, a.end)), ctx.slice(a.end));
      else context.append(ctx);
      box.append(h("div", { class: "predicted-label" }, "Answer: ", h("strong", { class: "pred-label" }, a?.text || "(none)"), a ? ` (score ${fmt(a.score)})` : ""),
        context, h("div", { class: "gold" }, d.label ? `gold: ${d.label}` : ""));
      break;
    }
    case "span-labeling": {
      // Custom models declaring SpanLabels: the labelled spans marked in the text.
      const text = h("p", { class: "context" });
      let at = 0;
      for (const s of [...(p.spans ?? [])].sort((a, b) => a.start - b.start)) {
        if (s.start < at) continue;
        text.append(d.text.slice(at, s.start), h("mark", { title: s.label }, d.text.slice(s.start, s.end), h("sub", {}, s.label)));
        at = s.end;
      }
      text.append(d.text.slice(at));
      box.append(h("div", { class: "predicted-label" }, "Spans: ", h("strong", { class: "pred-label" }, String(p.spans?.length ?? 0))), text);
      break;
    }
    default:
      box.append(h("div", { class: "predicted-label" }, "Generated:"), h("p", { class: "generated pred-label" }, h("span", { class: "prompt" }, d.text), p.generatedText ?? ""),
        h("div", { class: "gold" }, d.label ? `gold: ${d.label}` : ""));
  }
  if (p.truncated) box.append(h("div", { class: "warning" }, `The input was truncated to ${store.model.maxTokens} tokens.`));
  return box;
}

export async function predictOne(store: Store, d: Datapoint, signal?: AbortSignal, model = store.model.name): Promise<Prediction> {
  const known = store.predictionsOf(model);
  const cached = d.id ? known.get(d.id) : undefined;
  if (cached) return cached;
  const r = await api.predict(model, [asInput(d)], signal);
  if (d.id) known.set(d.id, r.predictions[0]);
  return r.predictions[0];
}

export function predictionsModule(store: Store): HTMLElement {
  const body = h("div", { class: "pred-body" });
  let ctrl: AbortController | null = null;
  async function update(): Promise<void> {
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    clear(body);
    const sel = store.selected;
    if (!sel) { body.append(h("p", { class: "hint" }, "Select a datapoint in the table, or type one in the editor.")); return; }
    const shown: [string, Datapoint][] = [["selected", sel]];
    const pin = store.pinned;
    if (pin && pin.id !== sel.id) shown.push(["pinned reference", pin]);
    // One model: the datapoints side by side. Several (compare.ts): one row per datapoint, one column per model.
    const models = store.models.length > 1 ? store.models.map((m) => m.name) : [store.model.name];
    let cols = h("div", { class: "compare" });
    if (models.length === 1) body.append(cols);
    for (const [title, d] of shown) {
      if (models.length > 1) body.append(h("h3", { class: "datapoint-title" }, `${title} · ${d.id}`), cols = h("div", { class: "compare models" }));
      for (const model of models) {
        const col = h("div", { class: "compare-col", "data-model": model }, h("h3", {}, models.length > 1 ? model : `${title} · ${d.id}`), h("p", { class: "hint" }, "predicting…"));
        cols.append(col);
        try {
          const p = await predictOne(store, d, signal, model);
          col.lastElementChild!.replaceWith(renderPrediction(store, d, p));
        } catch (e) {
          if (!signal.aborted) col.lastElementChild!.replaceWith(h("p", { class: "error" }, (e as Error).message));
        }
      }
    }
    if (pin && pin.id !== sel.id && !signal.aborted) {
      const diff = await datapointDiff(store, pin, sel, (d, model) => predictOne(store, d, signal, model));
      if (!signal.aborted) body.append(diff);
    }
  }
  store.on("selection", () => void update());
  store.on("pin", () => void update());
  queueMicrotask(() => void update());
  return panel("predictions", "Predictions", body);
}
