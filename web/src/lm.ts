// Language-model modules (Ecco's views), for text-generation models: the prompt (the selected
// datapoint, editable) and its greedy continuation; each generated token can be hovered or clicked
// to shade every earlier token by its attribution to it (normalised L2 of the input-embedding
// attribution, as Ecco). Below: the logit lens — layers × generated positions, each cell the
// layer's top token and the rank of the token the model finally produced (dark = rank 1) — and the
// layer predictions of the focused token (each layer's top 5 with probabilities).
import { exampleApi, hasModule, type LmResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import type { Store } from "./state";

const TITLES: Record<string, string> = { ig: "integrated gradients", saliency: "gradient (saliency)", grad_x_input: "input × gradient" };

/** Shade for an attribution share: the largest share of the row is full strength. */
function shade(v: number, max: number): string {
  const a = max > 0 ? Math.max(0, Math.min(1, v / max)) : 0;
  return `rgba(234, 88, 12, ${(0.85 * a).toFixed(3)})`;
}

/** Shade for a rank: 1 is dark green, 1000+ is white (log scale). */
function rankShade(rank: number): string {
  const a = Math.max(0, 1 - Math.log10(Math.max(1, rank)) / 3);
  return `rgba(5, 150, 105, ${(0.9 * a).toFixed(3)})`;
}

/** Runs f once the first predictions are in (or at once without a dataset), so the analysis
 * modules never delay the first predictions the page shows: they queue on the same model. */
export function afterFirstPredictions(store: Store, f: () => void): void {
  if (!store.dataset || store.predictions.size > 0) { queueMicrotask(f); return; }
  let done = false;
  const once = () => { if (!done) { done = true; f(); } };
  store.on("predictions", once);
  store.on("predictions-done", once);
}

function visible(text: string): string { return text.replace(/\n/g, "↵").replace(/ /g, "\u00a0") || "\u00a0"; }

export function lmModule(store: Store): HTMLElement {
  const m = store.model;
  const methods = m.analysis?.lmAttributions ?? [];
  const prompt = h("textarea", { class: "lm-prompt", rows: 2, "aria-label": "prompt" }) as HTMLTextAreaElement;
  const methodSel = h("select", { class: "lm-method", "aria-label": "attribution method" });
  for (const x of methods) methodSel.append(h("option", { value: x, title: TITLES[x] ?? x }, x));
  methodSel.append(h("option", { value: "none" }, "none (lens only)"));
  const count = h("input", { type: "number", class: "lm-count", min: 1, max: 32, value: 8, "aria-label": "new tokens" }) as HTMLInputElement;
  const runBtn = h("button", { class: "lm-run", onclick: () => void run() }, "Generate");
  const status = h("span", { class: "hint lm-status" });
  const text = h("div", { class: "lm-text" });
  const detail = h("div", { class: "lm-detail" });
  const lens = h("div", { class: "lm-lens" });
  const layers = h("div", { class: "lm-layers" });
  let data: LmResponse | null = null;
  let focus = 0;      // index into data.generated
  let pinned = false; // a click keeps the focus while hovering elsewhere
  let ctrl: AbortController | null = null;

  function fromSelection(): void {
    const d = store.selected;
    if (d) prompt.value = d.text;
  }

  async function run(): Promise<void> {
    if (!prompt.value.trim()) { status.textContent = "Type a prompt or select a datapoint."; return; }
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    status.textContent = "generating…";
    status.className = "hint lm-status";
    try {
      data = await exampleApi.lm(m.name, prompt.value, Math.max(1, Math.min(32, Number(count.value) || 8)), methodSel.value, signal);
      focus = 0; pinned = false;
      status.textContent = `${data.generated.length} tokens · ${data.method} · ${fmt(data.seconds, 2)} s`;
      draw();
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = `error: ${(e as Error).message}`;
      status.className = "error lm-status";
    }
  }

  function draw(): void {
    clear(text); clear(detail); clear(lens); clear(layers);
    if (!data) return;
    const g = data.generated[focus];
    const attribution = g?.attribution;
    const max = attribution ? Math.max(...attribution) : 0;
    data.tokens.forEach((t, i) => {
      const isGen = i >= data!.firstGenerated;
      const k = i - data!.firstGenerated;
      const score = attribution && i < attribution.length ? attribution[i] : null;
      const el = h("span", {
        class: "tok lm-tok" + (isGen ? " generated" : " prompt") + (isGen && k === focus ? " focus" : ""),
        "data-position": i,
        style: score !== null ? `background:${shade(score, max)}` : "",
        title: score !== null ? `${t.token}: ${(100 * score).toFixed(1)}% of the attribution to "${visible(g!.token.text)}"` : isGen ? `${t.token}: p = ${fmt(data!.generated[k].probability)}` : t.token,
      }, visible(t.text));
      if (isGen) {
        el.addEventListener("mouseenter", () => { if (!pinned && focus !== k) { focus = k; draw(); } });
        el.addEventListener("click", () => { pinned = !(pinned && focus === k); focus = k; draw(); });
      }
      text.append(el);
    });
    if (g) {
      detail.append(h("div", {}, h("strong", {}, `"${visible(g.token.text)}"`), ` p = ${fmt(g.probability)} at position ${g.position}`,
        g.convergenceDelta !== undefined ? h("span", { class: "meta" }, ` · IG δ ${fmt(g.convergenceDelta, 4)}`) : null,
        pinned ? h("span", { class: "meta" }, " · pinned (click again to release)") : null),
        h("div", { class: "lm-alts" }, "alternatives: ", ...g.alternatives.map((a) => h("span", { class: "chip lm-alt", title: a.token }, `${visible(a.text)} ${fmt(a.probability, 2)}`))));
      if (!attribution) detail.append(h("div", { class: "hint" }, "No attribution computed (method none)."));
    }
    drawLens();
    drawLayers();
  }

  function drawLens(): void {
    const d = data!;
    const table = h("table", { class: "lm-lens-table" });
    const head = h("tr", {}, h("th", {}, "layer"));
    d.generated.forEach((g, k) => head.append(h("th", { class: "col" + (k === focus ? " focus" : ""), title: `output token ${g.token.token}` }, visible(g.token.text))));
    table.append(head);
    for (let l = d.layers - 1; l >= 0; l--) {
      const row = h("tr", { "data-layer": l }, h("th", {}, String(l)));
      d.generated.forEach((g, k) => {
        const top = d.layerPredictions[k]?.layers[l]?.[0];
        const rank = d.rankings[l][k];
        const cell = h("td", { class: "lens-cell" + (k === focus ? " focus" : "") + (rank === 1 ? " hit" : ""), style: `background:${rankShade(rank)}`,
          title: `layer ${l}: top token ${top?.token ?? "?"} (p ${fmt(top?.probability ?? NaN)}); "${visible(g.token.text)}" ranks ${rank}` },
          h("div", { class: "lens-top" }, visible(top?.text ?? "?")), h("div", { class: "lens-rank" }, `#${rank}`));
        cell.addEventListener("click", () => { focus = k; pinned = true; draw(); });
        row.append(cell);
      });
      table.append(row);
    }
    lens.append(table, h("p", { class: "hint" }, "Each cell: the layer's most likely next token, and the rank (#) of the token the model finally generated there (green = rank 1)."));
  }

  function drawLayers(): void {
    const d = data!;
    const g = d.generated[focus];
    const lp = d.layerPredictions[focus];
    if (!g || !lp) return;
    layers.append(h("h3", {}, `Layer predictions for "${visible(g.token.text)}" (position ${g.position})`));
    const table = h("table", { class: "probs lm-layer-table" });
    for (let l = lp.layers.length - 1; l >= 0; l--) {
      const row = h("tr", { "data-layer": l }, h("th", {}, `layer ${l}`));
      for (const c of lp.layers[l]) {
        row.append(h("td", { class: "lm-cand" + (c.token === g.token.token ? " produced" : ""), title: `${c.token}: ${fmt(c.probability)}` },
          h("span", {}, visible(c.text)), h("div", { class: "lm-bar", style: `width:${(100 * c.probability).toFixed(1)}%` })));
      }
      table.append(row);
    }
    layers.append(table);
  }

  store.on("selection", () => { fromSelection(); void run(); });
  fromSelection();
  afterFirstPredictions(store, () => { if (!prompt.value) prompt.value = "ROMEO:"; void run(); });
  const wrap = h("div", { class: "lm-modules" },
    panel("lm-salience", "Generated text · salience",
      h("div", { class: "toolbar" }, prompt),
      h("div", { class: "toolbar" }, h("span", {}, "attribution "), methodSel, h("span", {}, " new tokens "), count, runBtn, status),
      text, detail,
      h("p", { class: "hint" }, "Hover or click a generated (bold) token: earlier tokens are shaded by their share of its attribution.")));
  if (hasModule(m, "logit-lens")) wrap.append(panel("logit-lens", "Logit lens · rankings", lens));
  if (hasModule(m, "layer-predictions")) wrap.append(panel("layer-predictions", "Layer predictions", layers));
  return wrap;
}
