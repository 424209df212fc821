// The salience module's "hierarchical" view: the phrase tree of the selected datapoint
// (POST /api/hierarchy; SOC or occlusion scores, agglomerative merges) drawn as nested spans, each
// coloured by its score relative to the largest |score| (red raises the explained class, blue
// lowers it). Hovering a phrase shows its score and the interaction of its two halves
// (score − left − right: how far the phrase is from the sum of its parts).
import { asInput, conceptApi, type HierarchyNode, type HierarchyResponse } from "./api";
import { clear, fmt, h, salienceColor } from "./dom";
import type { Store } from "./state";

/** A toggle and the tree view; `target` gives the salience module's class (null = the prediction). */
export function hierarchyView(store: Store, target: () => string | null): HTMLElement {
  const info = store.model.concepts?.hierarchy;
  if (!info) return h("div", { class: "hierarchy", hidden: true });
  const toggle = h("input", { type: "checkbox", class: "hierarchy-toggle", "aria-label": "hierarchical view" }) as HTMLInputElement;
  const method = h("select", { class: "hierarchy-method", "aria-label": "phrase scores" },
    ...info.methods.map((m) => h("option", { value: m }, m === "soc" ? "SOC (sampling and occlusion)" : m === "agglomerative" ? "agglomerative (occlusion)" : m)));
  const status = h("span", { class: "hierarchy-status hint" });
  const hover = h("div", { class: "hierarchy-hover hint" }, "hover a phrase for its score and interaction");
  const body = h("div", { class: "hierarchy-body" });
  const view = h("div", { class: "hierarchy-view", hidden: true }, hover, body);
  let ctrl: AbortController | null = null;

  async function run(): Promise<void> {
    if (!toggle.checked) return;
    const d = store.selected;
    clear(body);
    if (!d) { status.textContent = "select a datapoint"; return; }
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    status.textContent = "building the phrase tree…";
    const t = target();
    try {
      const r = await conceptApi.hierarchy(store.model.name, asInput(d), method.value, t && store.model.labels.includes(t) ? t : null, signal);
      draw(r);
      status.textContent = `${r.target} (${fmt(r.inputScore)}) · ${r.scoring} · ${fmt(r.seconds, 2)} s`;
    } catch (e) {
      if (!signal.aborted) status.textContent = `error: ${(e as Error).message}`;
    }
  }

  function draw(r: HierarchyResponse): void {
    clear(body);
    let max = 0;
    const visit = (n: HierarchyNode): void => { max = Math.max(max, Math.abs(n.score)); n.children.forEach(visit); };
    visit(r.tree);
    if (max === 0) max = 1;
    const node = (n: HierarchyNode): HTMLElement => {
      const leaf = n.children.length === 0;
      const label = `“${n.text}”: score ${fmt(n.score)}` + (leaf ? "" : `, interaction ${fmt(n.interaction)}`);
      const el = h("span", {
        class: "hnode" + (leaf ? " leaf" : ""), "data-start": n.start, "data-end": n.end, "data-score": fmt(n.score),
        "data-interaction": fmt(n.interaction), title: label, style: `background:${salienceColor(n.score / max)}`,
      }, h("span", { class: "hscore" }, fmt(n.score, 2)));
      if (leaf) el.append(h("span", { class: "hword" }, n.text));
      else for (const c of n.children) el.append(node(c));
      el.addEventListener("mouseover", (e) => { e.stopPropagation(); hover.textContent = label; el.classList.add("hover"); });
      el.addEventListener("mouseout", () => el.classList.remove("hover"));
      return el;
    };
    body.append(h("div", { class: "phrase-tree" }, node(r.tree)), h("p", { class: "hierarchy-summary" }, r.summary));
  }

  toggle.addEventListener("change", () => { view.hidden = !toggle.checked; if (toggle.checked) void run(); else ctrl?.abort(); });
  method.addEventListener("change", () => void run());
  store.on("selection", () => void run());
  return h("div", { class: "hierarchy" },
    h("div", { class: "toolbar" }, h("label", {}, toggle, " hierarchical (phrase tree)"), method,
      h("button", { class: "hierarchy-run", onclick: () => void run() }, "↻"), status), view);
}
