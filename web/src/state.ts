// App state and its URL form. Model, dataset, selection, pinned datapoint, methods and layout
// live in the URL hash, so a view can be shared by copying the address.
import type { Datapoint, Info, ModelInfo, Prediction } from "./api";

export interface UrlState { model?: string; models?: string[]; dataset?: string; sel?: string; pin?: string; methods?: string[]; hide?: string[]; proj?: string }

export function readUrl(): UrlState {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  const list = (k: string) => (p.get(k) ? p.get(k)!.split(",").filter(Boolean) : undefined);
  return { model: p.get("model") ?? undefined, models: list("models"), dataset: p.get("dataset") ?? undefined, sel: p.get("sel") ?? undefined, pin: p.get("pin") ?? undefined, methods: list("methods"), hide: list("hide"), proj: p.get("proj") ?? undefined };
}

export function writeUrl(s: UrlState): void {
  const p = new URLSearchParams();
  if (s.models && s.models.length > 1) p.set("models", s.models.join(","));
  else if (s.model) p.set("model", s.model);
  if (s.dataset) p.set("dataset", s.dataset);
  if (s.sel) p.set("sel", s.sel);
  if (s.pin) p.set("pin", s.pin);
  if (s.methods?.length) p.set("methods", s.methods.join(","));
  if (s.hide?.length) p.set("hide", s.hide.join(","));
  if (s.proj) p.set("proj", s.proj);
  const hash = "#" + p.toString();
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

type Listener = () => void;

export class Store {
  info!: Info;
  model!: ModelInfo;
  dataset: string | null = null;
  examples: Datapoint[] = [];
  /** Predictions of the current model by datapoint id. */
  predictions = new Map<string, Prediction>();
  selectedId: string | null = null;
  pinnedId: string | null = null;
  starred = new Set<string>();
  methods: string[] = [];
  progress: { done: number; total: number; label: string } | null = null;
  /** Rows chosen from a confusion-matrix cell; the table shows only these until cleared. */
  cellFilter: { label: string; ids: Set<string> } | null = null;
  private listeners = new Map<string, Set<Listener>>();
  /** Models shown side by side (compare.ts); the first is `model`. One model unless the URL says models=a,b. */
  models: ModelInfo[] = [];
  /** The projector's projection as method:dimensions (e.g. umap:2); null until the projector is shown. */
  projection: string | null = null;
  private otherPredictions = new Map<string, Map<string, Prediction>>();
  /** Predictions of any shown model by datapoint id (the current model's map is `predictions`). */
  predictionsOf(model: string): Map<string, Prediction> {
    if (model === this.model.name) return this.predictions;
    if (!this.otherPredictions.has(model)) this.otherPredictions.set(model, new Map());
    return this.otherPredictions.get(model)!;
  }

  on(topic: string, f: Listener): void {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic)!.add(f);
  }

  emit(topic: string): void {
    for (const f of this.listeners.get(topic) ?? []) f();
    this.syncUrl();
  }

  byId(id: string | null): Datapoint | undefined { return id === null ? undefined : this.examples.find((e) => e.id === id); }
  get selected(): Datapoint | undefined { return this.byId(this.selectedId); }
  get pinned(): Datapoint | undefined { return this.byId(this.pinnedId); }

  select(id: string | null): void { this.selectedId = id; this.emit("selection"); }
  pin(id: string | null): void { this.pinnedId = id; this.emit("pin"); }

  syncUrl(): void {
    writeUrl({ model: this.model?.name, models: this.models.map((m) => m.name), dataset: this.dataset ?? undefined, sel: this.selectedId ?? undefined, pin: this.pinnedId ?? undefined, methods: this.methods, proj: this.projection ?? undefined });
  }
}

/** The gold label of a datapoint as a class index of the model, when it names one (by name or by index). */
export function goldIndex(labels: string[], gold: string | null | undefined): number | null {
  if (gold === null || gold === undefined || gold === "") return null;
  const byName = labels.indexOf(gold);
  if (byName >= 0) return byName;
  const n = Number(gold);
  return Number.isInteger(n) && n >= 0 && n < labels.length ? n : null;
}
