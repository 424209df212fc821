// Glassbox web app: reads /api/info, then lays out the modules that fit the chosen model's spec
// (a module whose output type the model does not declare is not shown), loads the dataset and
// computes predictions for every row in the background behind a progress indicator.
import "./style.css";
import { api, asInput, type Datapoint } from "./api";
import { generatorsModule, metricsModule } from "./analysis";
import { projectorModule } from "./projector";
import { attentionModule } from "./attention";
import { hasModule } from "./api";
import { lmModule } from "./lm";
import { neighboursModule } from "./tda";
import { qualityModule } from "./quality";
import { compareControl, comparisonModule, navigate, predictCompared, shownModels } from "./compare";
import { clear, h } from "./dom";
import { editorModule } from "./editor";
import { predictionsModule } from "./predictions";
import { salienceModule } from "./salience";
import { Store, readUrl } from "./state";
import { dataTable } from "./table";
import { tcavModule } from "./tcav";

const CHUNK = 50;

async function start(): Promise<void> {
  const root = document.getElementById("app")!;
  const store = new Store();
  try {
    store.info = await api.info();
  } catch (e) {
    clear(root);
    root.append(h("p", { class: "error" }, `Cannot reach the Glassbox server: ${(e as Error).message}`));
    return;
  }
  const url = readUrl();
  store.model = store.info.models.find((m) => m.name === (url.models?.[0] ?? url.model)) ?? store.info.models[0];
  store.models = shownModels(store.info, store.model, url.models);
  const compatible = store.info.datasets.filter((d) => store.models.every((m) => d.compatibleModels.includes(m.name)));
  store.dataset = (compatible.find((d) => d.name === url.dataset) ?? compatible[0])?.name ?? null;
  store.methods = (url.methods ?? []).filter((m) => store.model.interpreters.includes(m));
  store.projection = url.proj ?? null;

  if (store.dataset) {
    const [data, saved] = await Promise.all([api.dataset(store.dataset), api.saved(store.dataset)]);
    store.examples = [...data.examples, ...saved.datapoints];
  }
  store.selectedId = url.sel && store.byId(url.sel) ? url.sel : store.examples[0]?.id ?? null;
  store.pinnedId = url.pin && store.byId(url.pin) ? url.pin : null;

  clear(root);
  root.append(header(store), layout(store));
  store.syncUrl();
  void predictAll(store).then(() => predictCompared(store));
  store.on("examples", () => { void predictAdded(store); void predictCompared(store); });
}

function header(store: Store): HTMLElement {
  const modelSel = h("select", { class: "model-select", "aria-label": "model", onchange: () => switchTo({ model: modelSel.value }) });
  for (const m of store.info.models) modelSel.append(h("option", { value: m.name, selected: m.name === store.model.name }, `${m.name} (${m.task})`));
  const dataSel = h("select", { class: "dataset-select", "aria-label": "dataset", onchange: () => navigate(store, store.models.map((m) => m.name), dataSel.value) });
  for (const d of store.info.datasets.filter((d) => store.models.every((m) => d.compatibleModels.includes(m.name))))
    dataSel.append(h("option", { value: d.name, selected: d.name === store.dataset }, `${d.name} (${d.size})`));
  const progress = h("div", { class: "progress", role: "progressbar", hidden: true }, h("div", { class: "fill" }), h("span", { class: "label" }));
  store.on("progress", () => {
    const p = store.progress;
    progress.hidden = !p;
    if (p) {
      (progress.querySelector(".fill") as HTMLElement).style.width = `${(100 * p.done / Math.max(1, p.total)).toFixed(1)}%`;
      progress.querySelector(".label")!.textContent = `${p.label} ${p.done}/${p.total}`;
    }
  });
  return h("header", { class: "top" }, h("h1", {}, "Glassbox"), h("label", {}, "model ", modelSel), compareControl(store),
    store.info.datasets.length ? h("label", {}, "dataset ", dataSel) : null,
    h("span", { class: "arch" }, `${store.model.architecture} · ${store.model.task}`), progress);
}

function switchTo(s: { model: string; dataset?: string }): void {
  const p = new URLSearchParams();
  p.set("model", s.model);
  if (s.dataset) p.set("dataset", s.dataset);
  location.hash = p.toString();
  location.reload();
}

/** The modules whose inputs and outputs the model's spec declares. */
function layout(store: Store): HTMLElement {
  const m = store.model;
  const left = h("div", { class: "column left" });
  const right = h("div", { class: "column right" });
  if (store.dataset) left.append(dataTable(store));
  left.append(editorModule(store));
  if (store.dataset && m.metrics.length > 0) left.append(metricsModule(store));
  if (store.dataset && m.projections.length > 0) left.append(projectorModule(store));
  right.append(predictionsModule(store));
  if (m.interpreters.length > 0) right.append(salienceModule(store));
  if (m.generators.length > 0 && store.dataset) right.append(generatorsModule(store));
  if (m.attention) right.append(attentionModule(store));
  if (hasModule(m, "lm-salience")) right.append(lmModule(store));
  if (hasModule(m, "nearest-examples")) right.append(neighboursModule(store));
  if (hasModule(m, "explanation-quality")) right.append(qualityModule(store));
  if (store.dataset && m.concepts?.tcav) left.append(tcavModule(store));
  if (store.dataset && store.models.length > 1 && m.task === "classification") left.append(comparisonModule(store));
  return h("main", { class: "layout" }, left, right);
}

/** Predictions for every row, selected row first, in chunks so the page stays responsive. */
async function predictAll(store: Store): Promise<void> {
  if (!store.dataset) return;
  if (store.examples.every((e) => store.predictions.has(e.id ?? ""))) { store.emit("predictions-done"); return; }
  const todo: Datapoint[] = store.examples.filter((e) => !store.predictions.has(e.id ?? ""));
  const sel = store.selected;
  if (sel) { todo.splice(todo.indexOf(sel), 1); todo.unshift(sel); }
  store.progress = { done: 0, total: todo.length, label: "predicting" };
  store.emit("progress");
  for (let i = 0; i < todo.length; i += CHUNK) {
    const chunk = todo.slice(i, i + CHUNK);
    try {
      const saved = chunk.filter((d) => d.source);
      const fromDataset = chunk.filter((d) => !d.source);
      if (fromDataset.length) {
        const r = await api.predictIds(store.model.name, store.dataset, fromDataset.map((d) => d.id!));
        r.predictions.forEach((p, k) => store.predictions.set(fromDataset[k].id!, p));
      }
      if (saved.length) {
        const r = await api.predict(store.model.name, saved.map(asInput));
        r.predictions.forEach((p, k) => store.predictions.set(saved[k].id!, p));
      }
    } catch (e) {
      store.progress = { done: i, total: todo.length, label: `prediction failed: ${(e as Error).message}` };
      store.emit("progress");
      return;
    }
    store.progress = { done: Math.min(todo.length, i + CHUNK), total: todo.length, label: "predicting" };
    store.emit("progress");
    store.emit("predictions");
  }
  store.progress = null;
  store.emit("progress");
  store.emit("predictions-done");
}

void start();

/** Datapoints added in the app (editor, generators) get their prediction too, so the table shows it. */
const predictingAdded = new Set<string>();
async function predictAdded(store: Store): Promise<void> {
  const todo = store.examples.filter((d) => d.source && d.id && !store.predictions.has(d.id) && !predictingAdded.has(d.id));
  if (!todo.length) return;
  todo.forEach((d) => predictingAdded.add(d.id!));
  try {
    const r = await api.predict(store.model.name, todo.map(asInput));
    r.predictions.forEach((p, k) => store.predictions.set(todo[k].id!, p));
    store.emit("predictions");
  } catch {
    // The row keeps an empty prediction cell; the predictions module shows the error when it is selected.
  } finally {
    todo.forEach((d) => predictingAdded.delete(d.id!));
  }
}
