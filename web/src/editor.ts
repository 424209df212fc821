// Datapoint editor: edit any field of the selected datapoint, see the model's prediction on the
// edit next to the original's as you type, and add the edit to the dataset as a new datapoint
// (saved on the server, linked to its parent).
import { api, asInput, type Datapoint } from "./api";
import { clear, h, panel } from "./dom";
import { predictOne, renderPrediction } from "./predictions";
import type { Store } from "./state";

export function editorModule(store: Store): HTMLElement {
  const needsPair = "pair" in store.model.inputSpec;
  const text = h("textarea", { rows: 3, class: "edit-text", "aria-label": "text" });
  const pair = h("textarea", { rows: 3, class: "edit-pair", "aria-label": "pair" });
  const label = h("input", { type: "text", class: "edit-label", "aria-label": "label" });
  const status = h("span", { class: "status" });
  const compare = h("div", { class: "compare" });
  let timer = 0;
  let ctrl: AbortController | null = null;

  const current = (): Datapoint => ({ text: text.value, pair: needsPair && pair.value ? pair.value : null, label: label.value || null });
  const original = (): Datapoint | undefined => store.selected;
  const changed = (): boolean => {
    const o = original();
    const c = current();
    return !o || o.text !== c.text || (o.pair ?? "") !== (c.pair ?? "") || (o.label ?? "") !== (c.label ?? "");
  };

  function load(): void {
    const o = original();
    text.value = o?.text ?? "";
    pair.value = o?.pair ?? "";
    label.value = o?.label ?? "";
    void refresh();
  }

  async function refresh(): Promise<void> {
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    addBtn.disabled = !changed() || !text.value.trim() || !store.dataset;
    resetBtn.disabled = !changed();
    clear(compare);
    if (!changed() || !text.value.trim()) return;
    status.textContent = "predicting the edit…";
    try {
      const edited = current();
      const [pe] = (await api.predict(store.model.name, [asInput(edited)], signal)).predictions;
      const cols = [h("div", { class: "compare-col edited" }, h("h3", {}, "edited"), renderPrediction(store, edited, pe))];
      const o = original();
      if (o) cols.push(h("div", { class: "compare-col" }, h("h3", {}, `original · ${o.id}`), renderPrediction(store, o, await predictOne(store, o, signal))));
      compare.append(...cols);
      status.textContent = "";
    } catch (e) {
      if (!signal.aborted) status.textContent = (e as Error).message;
    }
  }

  async function add(): Promise<void> {
    if (!store.dataset) return;
    const o = original();
    try {
      const saved = await api.save(store.dataset, [{ ...current(), parentId: o?.id ?? null, source: "edit" }]);
      store.examples.push(...saved.datapoints);
      store.emit("examples");
      status.textContent = `added ${saved.datapoints.map((d) => d.id).join(", ")}`;
      store.select(saved.datapoints[0].id!);
    } catch (e) { status.textContent = (e as Error).message; }
  }

  for (const el of [text, pair, label]) el.addEventListener("input", () => { window.clearTimeout(timer); timer = window.setTimeout(() => void refresh(), 350); });
  const addBtn = h("button", { class: "add-new", onclick: () => void add() }, "Add as new datapoint");
  const resetBtn = h("button", { onclick: () => load() }, "Reset");
  store.on("selection", load);
  queueMicrotask(load);
  return panel("editor", "Datapoint editor",
    h("label", { class: "field" }, h("span", {}, store.model.task === "question-answering" ? "question" : "text"), text),
    needsPair ? h("label", { class: "field" }, h("span", {}, store.model.task === "question-answering" ? "context" : "pair"), pair) : h("span", {}),
    h("label", { class: "field" }, h("span", {}, "label"), label),
    h("div", { class: "toolbar" }, addBtn, resetBtn, status), compare);
}
