// Tiny DOM helpers: h() builds elements, text is always set as text (never parsed as HTML).

type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "class") el.className = String(v);
    else if (k === "style") el.setAttribute("style", String(v));
    else if (k in el && typeof v !== "string") (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function clear(el: Element): void { while (el.firstChild) el.removeChild(el.firstChild); }

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Diverging colour for a salience score in [-1, 1]: blue negative, red positive (as transformers-interpret). */
export function salienceColor(score: number): string {
  const s = Math.max(-1, Math.min(1, score));
  const a = Math.abs(s);
  return s >= 0 ? `rgba(220, 38, 38, ${a.toFixed(3)})` : `rgba(37, 99, 235, ${a.toFixed(3)})`;
}

/** A module's frame: a titled panel with an optional toolbar. */
export function panel(id: string, title: string, ...body: Node[]): HTMLElement {
  return h("section", { class: "module", id, "data-module": id }, h("h2", {}, title), ...body);
}

export function fmt(p: number, digits = 3): string { return Number.isFinite(p) ? p.toFixed(digits) : "–"; }
