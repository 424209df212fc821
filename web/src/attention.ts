// Attention: pick a layer and a head (or the mean over heads) and read the token-to-token view:
// queries on the left, keys on the right, a line per pair with opacity = attention weight.
// Hovering a query token shows only its row.
import { api, asInput, type AttentionResponse } from "./api";
import { clear, h, panel, svg } from "./dom";
import type { Store } from "./state";

export function attentionModule(store: Store): HTMLElement {
  const layerSel = h("select", { class: "layer", "aria-label": "layer" });
  const headSel = h("select", { class: "head", "aria-label": "head" });
  const view = h("div", { class: "attention-view" });
  let data: AttentionResponse | null = null;
  let focus: number | null = null;
  let ctrl: AbortController | null = null;

  layerSel.addEventListener("change", () => draw());
  headSel.addEventListener("change", () => draw());

  async function load(): Promise<void> {
    const d = store.selected;
    clear(view);
    if (!d) return;
    ctrl?.abort();
    ctrl = new AbortController();
    try {
      data = await api.attention(store.model.name, asInput(d), ctrl.signal);
      const keepLayer = layerSel.value, keepHead = headSel.value;
      clear(layerSel); clear(headSel);
      for (let l = 0; l < data.layers; l++) layerSel.append(h("option", { value: String(l) }, `layer ${l}`));
      headSel.append(h("option", { value: "mean" }, "mean of heads"));
      for (let k = 0; k < data.heads; k++) headSel.append(h("option", { value: String(k) }, `head ${k}`));
      layerSel.value = keepLayer && Number(keepLayer) < data.layers ? keepLayer : String(data.layers - 1);
      headSel.value = keepHead && (keepHead === "mean" || Number(keepHead) < data.heads) ? keepHead : "mean";
      draw();
    } catch (e) {
      if (!ctrl.signal.aborted) view.append(h("p", { class: "error" }, (e as Error).message));
    }
  }

  function matrix(): number[][] {
    const layer = data!.patterns[Number(layerSel.value)];
    if (headSel.value !== "mean") return layer[Number(headSel.value)];
    const n = layer[0].length;
    return Array.from({ length: n }, (_, q) => Array.from({ length: layer[0][q].length }, (_, k) => layer.reduce((s, head) => s + head[q][k], 0) / layer.length));
  }

  function draw(): void {
    clear(view);
    if (!data) return;
    const m = matrix();
    const tokens = data.tokens;
    const rowH = 20, width = 420, colW = 130;
    const g = svg("svg", { width, height: tokens.length * rowH + 10, class: "attn-svg" });
    for (let q = 0; q < tokens.length; q++) {
      for (let k = 0; k < tokens.length; k++) {
        const w = m[q][k];
        if (w < 0.01 || (focus !== null && focus !== q)) continue;
        g.append(svg("line", { x1: colW, y1: q * rowH + 14, x2: width - colW, y2: k * rowH + 14, stroke: "#ea580c", "stroke-width": 2, "stroke-opacity": Math.min(1, w).toFixed(3) }));
      }
    }
    tokens.forEach((t, i) => {
      const left = svg("text", { x: colW - 6, y: i * rowH + 18, "text-anchor": "end", class: "attn-tok" + (focus === i ? " focus" : "") });
      left.textContent = t;
      left.addEventListener("mouseenter", () => { focus = i; draw(); });
      const right = svg("text", { x: width - colW + 6, y: i * rowH + 18, class: "attn-tok" });
      right.textContent = t;
      g.append(left, right);
    });
    g.addEventListener("mouseleave", () => { if (focus !== null) { focus = null; draw(); } });
    view.append(g);
  }

  store.on("selection", () => void load());
  queueMicrotask(() => void load());
  return panel("attention", "Attention", h("div", { class: "toolbar" }, layerSel, headSel), view);
}
