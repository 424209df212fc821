// Model comparison and datapoint comparison, as LIT's compare modes.
//  - Models: choose two or more models with the same task and labels in the header ("compare
//    with"); the set lives in the URL (models=a,b). Predictions and salience show one block per
//    model, the table one prediction column per model (and can keep only the rows where the
//    models disagree), and the comparison module pairs their metrics on the same examples
//    (POST /api/compare: accuracy and macro F1 per slice, agreement, Cohen's kappa, McNemar's
//    exact test, with the discordant examples one click away).
//  - Datapoints: with a pinned reference, the selected datapoint shows what changed: a word-level
//    diff of its text (and pair) against the reference, and each model's prediction delta.
import { api, asInput, compareApi, type CompareResponse, type Datapoint, type Info, type ModelInfo, type Prediction } from "./api";
import { clear, fmt, h, panel } from "./dom";
import type { Store } from "./state";

const CHUNK = 50;

/** Why a model cannot be compared with the reference model, or null when it can (same task, same labels in the same order, a dataset for both). */
export function incompatibility(info: Info, reference: ModelInfo, other: ModelInfo): string | null {
  if (other.task !== reference.task) return `${other.task}, not ${reference.task}`;
  if (other.labels.length !== reference.labels.length || other.labels.some((l, i) => l !== reference.labels[i]))
    return `labels ${other.labels.join(", ") || "(none)"} differ from ${reference.labels.join(", ")}`;
  if (info.datasets.length > 0 && !info.datasets.some((d) => d.compatibleModels.includes(reference.name) && d.compatibleModels.includes(other.name)))
    return "no dataset fits both";
  return null;
}

/** The models the URL asks to show: the reference first, then each compatible one named (unknown or incompatible names are dropped). */
export function shownModels(info: Info, reference: ModelInfo, names: string[] | undefined): ModelInfo[] {
  const shown = [reference];
  for (const n of names ?? []) {
    const m = info.models.find((x) => x.name === n);
    if (m && !shown.includes(m) && incompatibility(info, reference, m) === null) shown.push(m);
  }
  return shown;
}

/** Reloads the app on another set of models (and dataset), keeping the selection and pin. */
export function navigate(store: Store, models: string[], dataset: string | null): void {
  const p = new URLSearchParams();
  if (models.length > 1) p.set("models", models.join(",")); else p.set("model", models[0]);
  if (dataset) p.set("dataset", dataset);
  if (store.selectedId) p.set("sel", store.selectedId);
  if (store.pinnedId) p.set("pin", store.pinnedId);
  if (store.methods.length) p.set("methods", store.methods.join(","));
  location.hash = p.toString();
  location.reload();
}

/** Header control: a checkbox per other model; incompatible ones are disabled and say why. */
export function compareControl(store: Store): HTMLElement {
  const others = store.info.models.filter((m) => m.name !== store.model.name);
  const box = h("details", { class: "compare-control" }, h("summary", {}, store.models.length > 1
    ? `comparing ${store.models.length} models` : "compare with…"));
  const menu = h("div", { class: "compare-menu" });
  box.append(menu);
  if (others.length === 0) menu.append(h("div", { class: "hint" }, "only one model is served; start glassbox serve with two --model options to compare."));
  for (const m of others) {
    const why = incompatibility(store.info, store.model, m);
    const check = h("input", { type: "checkbox", "data-model": m.name, checked: store.models.some((x) => x.name === m.name), disabled: why !== null }) as HTMLInputElement;
    check.addEventListener("change", () => {
      const names = store.models.map((x) => x.name).filter((n) => n !== m.name);
      if (check.checked) names.push(m.name);
      const dataset = store.dataset && store.info.datasets.find((d) => d.name === store.dataset)?.compatibleModels.includes(m.name) ? store.dataset : null;
      navigate(store, names, dataset);
    });
    menu.append(h("label", { class: "compare-option" + (why ? " disabled" : ""), title: why ?? `show ${m.name} beside ${store.model.name}` }, check, ` ${m.name}`,
      why ? h("span", { class: "why" }, ` (${why})`) : null));
  }
  return box;
}

/** Predictions of every row by the other shown models (the first model's come from main.ts), in chunks behind the progress bar. */
export async function predictCompared(store: Store): Promise<void> {
  if (!store.dataset || store.models.length < 2) return;
  // Nothing new (the "examples" event also fires for table filters): no requests, no events.
  if (store.models.slice(1).every((m) => store.examples.every((e) => store.predictionsOf(m.name).has(e.id ?? "")))) return;
  for (const m of store.models.slice(1)) {
    const known = store.predictionsOf(m.name);
    const todo = store.examples.filter((e) => !known.has(e.id ?? ""));
    for (let i = 0; i < todo.length; i += CHUNK) {
      store.progress = { done: i, total: todo.length, label: `predicting (${m.name})` };
      store.emit("progress");
      const chunk = todo.slice(i, i + CHUNK);
      try {
        const fromDataset = chunk.filter((d) => !d.source);
        const saved = chunk.filter((d) => d.source);
        if (fromDataset.length) (await api.predictIds(m.name, store.dataset, fromDataset.map((d) => d.id!))).predictions.forEach((p, k) => known.set(fromDataset[k].id!, p));
        if (saved.length) (await api.predict(m.name, saved.map(asInput))).predictions.forEach((p, k) => known.set(saved[k].id!, p));
      } catch (e) {
        store.progress = { done: i, total: todo.length, label: `prediction by ${m.name} failed: ${(e as Error).message}` };
        store.emit("progress");
        return;
      }
      store.emit("compare-predictions");
    }
  }
  store.progress = null;
  store.emit("progress");
  store.emit("compare-done");
}

/** Whether the shown models predict different things for a datapoint (null until all have predicted it). */
export function modelsDisagree(store: Store, id: string): boolean | null {
  const keys = store.models.map((m) => {
    const p = store.predictionsOf(m.name).get(id);
    return p === undefined ? undefined : predictionKey(p);
  });
  if (keys.some((k) => k === undefined)) return null;
  return keys.some((k) => k !== keys[0]);
}

function predictionKey(p: Prediction): string {
  if (p.value !== undefined) return fmt(p.value, 3);
  if (p.answer) return p.answer.text;
  if (p.generatedText !== undefined) return p.generatedText;
  if (p.tags) return p.tags.map((t) => t.tag).join(" ");
  return p.label ?? "";
}

/** Paired metrics of the shown models on the same examples, per slice; discordant cells filter the table. */
export function comparisonModule(store: Store): HTMLElement {
  const facet = h("select", { class: "compare-facet", "aria-label": "compare slices" },
    h("option", { value: "" }, "whole dataset"), h("option", { value: "label" }, "by gold label"), h("option", { value: "agreement" }, "models agree / disagree"));
  const body = h("div", { class: "comparison-body" }, h("p", { class: "hint" }, "waiting for every model's predictions…"));
  let ctrl: AbortController | null = null;

  async function load(): Promise<void> {
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    try { draw(await compareApi.compare(store.models.map((m) => m.name), store.dataset!, facet.value || null, signal)); }
    catch (e) { if (!signal.aborted) { clear(body); body.append(h("p", { class: "error" }, (e as Error).message)); } }
  }

  function filterTable(label: string, ids: string[]): void {
    store.cellFilter = { label, ids: new Set(ids) };
    store.emit("examples");
    if (ids.length) store.select(ids[0]);
  }

  function draw(r: CompareResponse): void {
    clear(body);
    const pairCount = r.slices[0]?.pairs.length ?? 0;
    const head = h("tr", {}, h("th", {}, "slice"), h("th", {}, "n"),
      ...r.models.flatMap((m) => [h("th", { class: "model-col" }, `${m} acc`), h("th", { class: "model-col" }, `${m} F1`)]),
      ...(pairCount === 1 ? [h("th", {}, "agreement"), h("th", {}, "κ"), h("th", { title: "McNemar's exact test of paired correctness (two-sided)" }, "McNemar p")] : []));
    const t = h("table", { class: "metrics paired" }, head);
    for (const s of r.slices) {
      const best = Math.max(...s.models.map((m) => m.accuracy));
      const row = h("tr", { class: "compare-slice-row", "data-slice": s.slice }, h("td", {}, s.slice), h("td", {}, String(s.count)));
      if (s.note) row.append(h("td", { colspan: 2 * r.models.length + (pairCount === 1 ? 3 : 0), class: "hint" }, s.note));
      else {
        for (const m of s.models) row.append(h("td", { class: m.accuracy === best && s.models.length > 1 ? "best" : "" }, fmt(m.accuracy)), h("td", {}, fmt(m.macroF1)));
        if (pairCount === 1) {
          const p = s.pairs[0];
          row.append(h("td", {}, fmt(p.agreement)), h("td", {}, p.kappa !== undefined ? fmt(p.kappa) : "–"), h("td", { class: p.mcNemarPValue < 0.05 ? "significant" : "" }, pValue(p.mcNemarPValue)));
        }
      }
      t.append(row);
    }
    body.append(t);
    if (r.skipped) body.append(h("p", { class: "hint" }, `${r.skipped} examples without a usable gold label are left out.`));
    body.append(h("p", { class: "disagree-count" }, `The models disagree on ${r.disagreements.length} of ${r.slices[0]?.count ?? 0} examples. `,
      h("button", { class: "show-disagreements", onclick: () => filterTable("models disagree", r.disagreements), disabled: r.disagreements.length === 0 }, "show them in the table")));

    // McNemar's table for each pair on the whole selection: its discordant cells are the examples that decide the test.
    const all = r.slices[0];
    for (const p of all?.pairs ?? []) {
      const cell = (n: number, ids: string[] | null, label: string) => h("td", {
        class: "cell" + (ids ? " discordant" : ""), title: ids ? "show these examples in the table" : "",
        onclick: ids ? () => filterTable(label, ids) : undefined,
      }, String(n));
      body.append(h("h3", {}, `${p.first} vs ${p.second}: agreement ${fmt(p.agreement)}, κ ${p.kappa !== undefined ? fmt(p.kappa) : "–"}, McNemar p = ${pValue(p.mcNemarPValue)}`),
        h("table", { class: "confusion mcnemar", "data-pair": `${p.first}|${p.second}` },
          h("tr", {}, h("th", {}, ""), h("th", {}, `${p.second} right`), h("th", {}, `${p.second} wrong`)),
          h("tr", {}, h("th", {}, `${p.first} right`), cell(p.bothCorrect, null, ""), cell(p.onlyFirstCorrect, p.onlyFirstCorrectIds, `only ${p.first} right`)),
          h("tr", {}, h("th", {}, `${p.first} wrong`), cell(p.onlySecondCorrect, p.onlySecondCorrectIds, `only ${p.second} right`), cell(p.bothWrong, null, ""))));
    }
    body.append(h("p", { class: "hint" }, "Same examples for every model. McNemar's exact test asks whether the discordant examples (one model right, the other wrong) split more unevenly than a fair coin would; p < 0.05 is shaded."));
  }

  facet.addEventListener("change", () => void load());
  store.on("compare-done", () => void load());
  return panel("comparison", "Model comparison", h("div", { class: "toolbar" }, h("span", {}, "slices "), facet), body);
}

function pValue(p: number): string { return p < 1e-4 ? p.toExponential(1) : fmt(p, 4); }

export interface DiffOp { op: "same" | "add" | "del"; word: string }

/** Word-level diff (longest common subsequence of whitespace-separated words) from a to b. Past
 * maxCells of the LCS table the middle is shown as one replacement, after the common prefix and suffix. */
export function wordDiff(a: string, b: string, maxCells = 4_000_000): DiffOp[] {
  const x = a.split(/\s+/).filter(Boolean), y = b.split(/\s+/).filter(Boolean);
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const xs = x.slice(pre, x.length - suf), ys = y.slice(pre, y.length - suf);
  const out: DiffOp[] = x.slice(0, pre).map((w) => ({ op: "same", word: w }));
  const n = xs.length, m = ys.length;
  if ((n + 1) * (m + 1) > maxCells) {
    out.push(...xs.map((w): DiffOp => ({ op: "del", word: w })), ...ys.map((w): DiffOp => ({ op: "add", word: w })));
  } else {
    // L[i][j] = LCS length of xs[i..] and ys[j..]; walk forward taking matches, else the longer side.
    const L = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        L[i * (m + 1) + j] = xs[i] === ys[j] ? L[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(L[(i + 1) * (m + 1) + j], L[i * (m + 1) + j + 1]);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) { out.push({ op: "same", word: xs[i] }); i++; j++; }
      else if (i < n && (j === m || L[(i + 1) * (m + 1) + j] >= L[i * (m + 1) + j + 1])) out.push({ op: "del", word: xs[i++] });
      else out.push({ op: "add", word: ys[j++] });
    }
  }
  out.push(...x.slice(x.length - suf).map((w): DiffOp => ({ op: "same", word: w })));
  return out;
}

function diffLine(ops: DiffOp[]): HTMLElement {
  const line = h("div", { class: "word-diff" });
  ops.forEach((o, k) => {
    if (k > 0) line.append(" ");
    line.append(o.op === "same" ? o.word : h(o.op === "add" ? "ins" : "del", { class: `diff-${o.op}` }, o.word));
  });
  return line;
}

/** The differences between the pinned reference and the selected datapoint: a word diff and each model's prediction delta. */
export async function datapointDiff(store: Store, ref: Datapoint, sel: Datapoint, predict: (d: Datapoint, model: string) => Promise<Prediction>): Promise<HTMLElement> {
  const box = h("div", { class: "datapoint-diff" }, h("h3", {}, `differences: pinned ${ref.id} → selected ${sel.id}`));
  const textOps = wordDiff(ref.text, sel.text);
  const changed = textOps.filter((o) => o.op !== "same").length;
  box.append(h("div", { class: "diff-field" }, h("span", { class: "field-name" }, "text"), diffLine(textOps)));
  if (ref.pair || sel.pair) box.append(h("div", { class: "diff-field" }, h("span", { class: "field-name" }, "pair"), diffLine(wordDiff(ref.pair ?? "", sel.pair ?? ""))));
  if ((ref.label ?? "") !== (sel.label ?? "")) box.append(h("div", { class: "diff-field" }, h("span", { class: "field-name" }, "label"), `${ref.label ?? "–"} → ${sel.label ?? "–"}`));
  box.append(h("div", { class: "hint" }, changed === 0 ? "same words" : `${textOps.filter((o) => o.op === "del").length} words removed, ${textOps.filter((o) => o.op === "add").length} added`));
  const table = h("table", { class: "prediction-delta" }, h("tr", {}, h("th", {}, "model"), h("th", {}, "pinned"), h("th", {}, "selected"), h("th", {}, "change")));
  box.append(table);
  for (const m of store.models.length ? store.models : [store.model]) {
    try {
      const [pr, ps] = await Promise.all([predict(ref, m.name), predict(sel, m.name)]);
      table.append(deltaRow(m, pr, ps));
    } catch (e) {
      table.append(h("tr", {}, h("td", {}, m.name), h("td", { colspan: 3, class: "error" }, (e as Error).message)));
    }
  }
  return box;
}

function deltaRow(m: ModelInfo, pr: Prediction, ps: Prediction): HTMLElement {
  const row = h("tr", { class: "delta-row", "data-model": m.name }, h("td", {}, m.name));
  if (pr.probabilities && ps.probabilities) {
    const k = ps.labelIndex ?? 0;
    const flipped = (pr.label ?? "") !== (ps.label ?? "");
    const deltas = ps.probabilities.map((p, i) => p - (pr.probabilities![i] ?? 0));
    row.append(h("td", {}, `${pr.label || "–"} ${fmt(pr.probabilities[pr.labelIndex ?? 0])}`), h("td", {}, `${ps.label || "–"} ${fmt(ps.probabilities[k])}`),
      h("td", { class: flipped ? "flipped" : "" }, flipped ? "prediction flips; " : "",
        ...deltas.map((d, i) => h("span", { class: "delta " + (d > 0 ? "up" : d < 0 ? "down" : "") }, `${m.labels[i] ?? i} ${d >= 0 ? "+" : "−"}${fmt(Math.abs(d))} `))));
  } else if (pr.value !== undefined && ps.value !== undefined) {
    const d = ps.value - pr.value;
    row.append(h("td", {}, fmt(pr.value)), h("td", {}, fmt(ps.value)), h("td", { class: "delta " + (d > 0 ? "up" : d < 0 ? "down" : "") }, `${d >= 0 ? "+" : "−"}${fmt(Math.abs(d))}`));
  } else {
    const a = predictionKey(pr), b = predictionKey(ps);
    row.append(h("td", {}, a || "–"), h("td", {}, b || "–"), h("td", { class: a !== b ? "flipped" : "" }, a === b ? "same" : "changed"));
  }
  return row;
}
