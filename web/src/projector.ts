// Embeddings projector (LIT's): PCA or UMAP of the last block's first-token vectors, in 2-D or
// 3-D. The projection runs on the server as a background job (POST /api/project/jobs, polled
// here) behind a progress bar with a cancel button, so the rest of the page stays usable.
// Navigate: drag rotates (3-D) or pans (2-D; shift-drag pans in 3-D), the wheel zooms, a click
// selects a point. Lasso: drag a free-hand polygon; the points inside become the data table's
// filter (a chip there clears it). Colour by gold label, prediction, correctness, confidence,
// text length or any field of the dataset: categorical fields get a palette with a legend,
// numeric fields a continuous scale with its range.
import { projectionJobs, type Datapoint, type ProjectionJob, type ProjectResponse } from "./api";
import { clear, fmt, h, panel } from "./dom";
import { goldIndex, type Store } from "./state";

type FieldValue = string | number | null;
interface ColourField { key: string; title: string; numeric: boolean; value: (d: Datapoint) => FieldValue }

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const MISSING = "#d1d5db";

/** Viridis-like ramp for t in [0, 1] (five stops, linear between them). */
export function rampColour(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** True when (x, y) lies inside the polygon (even-odd rule, as canvas fills it). */
export function insidePolygon(x: number, y: number, poly: { x: number; y: number }[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i], b = poly[j];
    if ((a.y > y) !== (b.y > y) && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** Number of whitespace-separated words (the server's "length" facet counts the same way). */
export function words(text: string): number { return text.split(/\s+/).filter(Boolean).length; }

function fieldsOf(d: Datapoint): Record<string, string> | undefined { return (d as Datapoint & { fields?: Record<string, string> }).fields; }

/** The fields the projector can colour by (and the metrics can slice by): built-ins, then the dataset's extra columns. */
export function colourFields(store: Store): ColourField[] {
  const labels = store.model.labels;
  const pred = (d: Datapoint) => store.predictions.get(d.id ?? "");
  const list: ColourField[] = [
    { key: "label", title: "gold label", numeric: false, value: (d) => { const g = goldIndex(labels, d.label); return g === null ? (d.label || null) : labels[g]; } },
    { key: "predicted", title: "prediction", numeric: false, value: (d) => pred(d)?.label ?? null },
    { key: "correct", title: "correct?", numeric: false, value: (d) => { const p = pred(d), g = goldIndex(labels, d.label); return p?.labelIndex === undefined || g === null ? null : p.labelIndex === g ? "correct" : "wrong"; } },
    { key: "confidence", title: "confidence", numeric: true, value: (d) => { const p = pred(d); return p?.probabilities && p.labelIndex !== undefined ? p.probabilities[p.labelIndex] : null; } },
    { key: "length", title: "length (words)", numeric: true, value: (d) => words(d.text) },
  ];
  const spec = store.info.datasets.find((s) => s.name === store.dataset)?.spec ?? {};
  for (const [name, f] of Object.entries(spec)) {
    if (["id", "text", "pair", "label"].includes(name)) continue;
    const numeric = f.type === "Scalar";
    list.push({ key: `field:${name}`, title: name, numeric, value: (d) => {
      const v = fieldsOf(d)?.[name];
      if (v === undefined || v === "") return null;
      if (!numeric) return v;
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    } });
  }
  return list;
}

export function projectorModule(store: Store): HTMLElement {
  const dims = h("select", { class: "dims", "aria-label": "projection" },
    ...store.model.projections.flatMap((m) => [2, 3].map((d) => h("option", { value: `${m}:${d}` }, `${m.toUpperCase()} ${d}-D`))));
  // The projection comes from the URL (proj=pca:3) or is UMAP 2-D, LIT's default, when the model offers it.
  const options = [...dims.options].map((o) => o.value);
  dims.value = store.projection && options.includes(store.projection) ? store.projection : options.includes("umap:2") ? "umap:2" : options[0];
  store.projection = dims.value;
  const fields = colourFields(store);
  const colour = h("select", { class: "colour", "aria-label": "colour by" }, ...fields.map((f) => h("option", { value: f.key }, `colour: ${f.title}`)));
  const navBtn = h("button", { class: "tool nav on", title: "drag to rotate (3-D) or pan; shift-drag pans; wheel zooms" }, "rotate / pan");
  const lassoBtn = h("button", { class: "tool lasso", title: "drag a free-hand polygon: the points inside filter the data table" }, "lasso");
  const resetBtn = h("button", { class: "tool reset", title: "reset rotation, zoom and pan" }, "reset view");
  const status = h("span", { class: "hint proj-status" });
  const bar = h("div", { class: "proj-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, hidden: true }, h("div", { class: "fill" }), h("span", { class: "label" }));
  const cancelBtn = h("button", { class: "proj-cancel", hidden: true }, "cancel");
  const legend = h("div", { class: "legend" });
  const W = 460, H = 340;
  const canvas = h("canvas", { width: W, height: H, class: "projector-canvas", "data-state": "empty" });
  let data: ProjectResponse | null = null;
  let job: ProjectionJob | null = null;
  let generation = 0;
  let yaw = 0.6, pitch = 0.3, zoom = 1, panX = 0, panY = 0;
  let tool: "nav" | "lasso" = "nav";
  let drag: { x: number; y: number; x0: number; y0: number; pan: boolean } | null = null;
  let lasso: { x: number; y: number }[] | null = null;
  let screen: { id: string; x: number; y: number; z: number }[] = [];

  function showProgress(j: ProjectionJob | null): void {
    const running = !!j && j.state === "running";
    bar.hidden = !running; cancelBtn.hidden = !running;
    if (!j) return;
    const pct = Math.round(100 * j.progress);
    bar.setAttribute("aria-valuenow", String(pct));
    (bar.querySelector(".fill") as HTMLElement).style.width = `${pct}%`;
    const stage = j.stage === "embeddings" ? `embeddings ${j.done}/${j.total}` : j.stage === "layout" ? `layout epoch ${j.done}/${j.total}` : j.stage;
    bar.querySelector(".label")!.textContent = `${j.method.toUpperCase()} ${pct}% · ${stage}`;
  }

  async function load(): Promise<void> {
    const my = ++generation;
    if (job && job.state === "running") void projectionJobs.cancel(job.id).catch(() => undefined);
    const [method, d] = dims.value.split(":");
    data = null; job = null; draw();
    canvas.dataset.state = "computing";
    status.textContent = method === "umap" ? "computing UMAP on the server (the page stays usable)…" : "projecting…";
    try {
      let j = await projectionJobs.start(store.model.name, store.dataset!, method, Number(d));
      while (my === generation && j.state === "running") {
        job = j; showProgress(j);
        await new Promise((r) => setTimeout(r, 250));
        if (my !== generation) return;
        j = await projectionJobs.get(j.id);
      }
      if (my !== generation) return;
      job = j; showProgress(j);
      if (j.state === "done" && j.result) {
        data = j.result;
        canvas.dataset.state = "drawn";
        status.textContent = `${j.count} points in ${fmt(j.seconds, 1)} s` + (data.explainedVarianceRatio ? ` · explained variance ${data.explainedVarianceRatio.map((v) => fmt(v, 2)).join(", ")}` : "");
        draw();
      } else {
        canvas.dataset.state = j.state;
        status.textContent = j.state === "cancelled" ? "projection cancelled; choose a projection to start again" : `projection failed: ${j.error?.error ?? "unknown error"}`;
      }
    } catch (e) {
      if (my !== generation) return;
      canvas.dataset.state = "failed";
      showProgress(null); bar.hidden = true; cancelBtn.hidden = true;
      status.textContent = (e as Error).message;
    }
  }

  /** Colour per datapoint id for the chosen field, and the legend describing it. */
  function colouring(): (id: string) => string {
    const f = fields.find((x) => x.key === colour.value) ?? fields[0];
    clear(legend);
    const ids = data?.ids ?? [];
    const values = new Map<string, FieldValue>();
    for (const id of ids) { const d = store.byId(id); values.set(id, d ? f.value(d) : null); }
    if (f.numeric) {
      const nums = [...values.values()].filter((v): v is number => typeof v === "number");
      const lo = nums.length ? Math.min(...nums) : 0, hi = nums.length ? Math.max(...nums) : 1;
      const span = hi - lo || 1;
      const digits = Number.isInteger(lo) && Number.isInteger(hi) ? 0 : 3;
      legend.append(h("span", { class: "legend-title" }, f.title), h("span", { class: "legend-min" }, fmt(lo, digits)),
        h("span", { class: "ramp", style: `background: linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(rampColour).join(", ")})` }),
        h("span", { class: "legend-max" }, fmt(hi, digits)));
      if (nums.length < values.size) legend.append(h("span", { class: "swatch", style: `background:${MISSING}` }), h("span", {}, "missing"));
      return (id) => { const v = values.get(id); return typeof v === "number" ? rampColour((v - lo) / span) : MISSING; };
    }
    // categories in a stable order: the model's labels first, then the others sorted
    const counts = new Map<string, number>();
    let missing = 0;
    for (const v of values.values()) { if (v === null) missing++; else counts.set(String(v), (counts.get(String(v)) ?? 0) + 1); }
    const order = [...counts.keys()].sort((a, b) => {
      const ia = store.model.labels.indexOf(a), ib = store.model.labels.indexOf(b);
      if (ia >= 0 || ib >= 0) return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
      if (a === "correct" || b === "correct") return a === "correct" ? -1 : 1;
      return a.localeCompare(b);
    });
    const colourOf = new Map(order.map((v, i) => [v, f.key === "correct" ? (v === "correct" ? "#059669" : "#dc2626") : PALETTE[i % PALETTE.length]]));
    legend.append(h("span", { class: "legend-title" }, f.title));
    const shown = order.slice(0, 12);
    for (const v of shown) legend.append(h("span", { class: "legend-item", "data-value": v }, h("span", { class: "swatch", style: `background:${colourOf.get(v)}` }), `${v} (${counts.get(v)})`));
    if (order.length > shown.length) legend.append(h("span", { class: "hint" }, `+${order.length - shown.length} more (colours repeat)`));
    if (missing) legend.append(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: `background:${MISSING}` }), `missing (${missing})`));
    return (id) => { const v = values.get(id); return v === null || v === undefined ? MISSING : colourOf.get(String(v)) ?? MISSING; };
  }

  function draw(): void {
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, W, H);
    if (!data) { clear(legend); screen = []; return; }
    const pts = data.points;
    const dim = data.dimensions;
    // centre on the mean and scale by the largest radius, so rotation turns about the cloud's centre
    const mean = [0, 1, 2].map((c) => pts.reduce((s, p) => s + (p[c] ?? 0), 0) / Math.max(1, pts.length));
    const scale = Math.max(1e-9, ...pts.map((p) => Math.hypot(...p.map((v, c) => v - mean[c]))));
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    screen = pts.map((p, i) => {
      let [x, y, z] = [(p[0] - mean[0]) / scale, (p[1] - mean[1]) / scale, dim === 3 ? (p[2] - mean[2]) / scale : 0];
      if (dim === 3) { [x, z] = [x * cy + z * sy, -x * sy + z * cy]; [y, z] = [y * cp - z * sp, y * sp + z * cp]; }
      return { id: data!.ids[i], x: W / 2 + panX + x * zoom * W * 0.45, y: H / 2 + panY - y * zoom * H * 0.45, z };
    });
    const colourOf = colouring();
    const filter = store.cellFilter?.ids;
    const order = dim === 3 ? [...screen].sort((a, b) => a.z - b.z) : screen;
    for (const s of order) {
      const dimmed = filter && !filter.has(s.id);
      ctx.fillStyle = dimmed ? MISSING : colourOf(s.id);
      ctx.globalAlpha = dimmed ? 0.35 : 0.8;
      const r = dim === 3 ? 2.5 + 1.2 * (s.z + 1) : 3;
      ctx.beginPath(); ctx.arc(s.x, s.y, s.id === store.selectedId ? 6 : r, 0, Math.PI * 2); ctx.fill();
    }
    const sel = screen.find((s) => s.id === store.selectedId);
    if (sel) { ctx.globalAlpha = 1; ctx.strokeStyle = "#111827"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(sel.x, sel.y, 6, 0, Math.PI * 2); ctx.stroke(); }
    if (lasso && lasso.length > 1) {
      ctx.globalAlpha = 1; ctx.strokeStyle = "#111827"; ctx.lineWidth = 1.5; ctx.setLineDash([4, 3]);
      ctx.fillStyle = "rgba(99, 102, 241, 0.12)";
      ctx.beginPath(); ctx.moveTo(lasso[0].x, lasso[0].y);
      for (const q of lasso.slice(1)) ctx.lineTo(q.x, q.y);
      ctx.closePath(); ctx.fill(); ctx.stroke(); ctx.setLineDash([]);
    }
    ctx.globalAlpha = 1;
  }

  function pos(e: MouseEvent): { x: number; y: number } {
    const r = canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * (W / r.width), y: (e.clientY - r.top) * (H / r.height) };
  }

  function finishLasso(): void {
    const poly = lasso;
    lasso = null;
    if (!poly || poly.length < 3) { draw(); return; }
    const ids = screen.filter((s) => insidePolygon(s.x, s.y, poly)).map((s) => s.id);
    store.cellFilter = ids.length ? { label: `lasso: ${ids.length} point${ids.length === 1 ? "" : "s"}`, ids: new Set(ids) } : null;
    status.textContent = ids.length ? `${ids.length} points selected by the lasso; the table shows them (× on its chip clears)` : "no point inside the lasso";
    store.emit("examples");
    if (ids.length && !ids.includes(store.selectedId ?? "")) store.select(ids[0]);
    else draw();
  }

  function setTool(t: "nav" | "lasso"): void {
    tool = t;
    navBtn.classList.toggle("on", t === "nav"); lassoBtn.classList.toggle("on", t === "lasso");
    canvas.classList.toggle("lasso-mode", t === "lasso");
  }

  canvas.addEventListener("mousedown", (e) => {
    const p = pos(e);
    if (tool === "lasso") { lasso = [p]; return; }
    drag = { ...p, x0: p.x, y0: p.y, pan: e.shiftKey || data?.dimensions !== 3 };
  });
  window.addEventListener("mousemove", (e) => {
    if (!data) return;
    const p = pos(e);
    if (lasso) {
      const last = lasso[lasso.length - 1];
      if (Math.hypot(p.x - last.x, p.y - last.y) >= 2) { lasso.push(p); draw(); }
      return;
    }
    if (!drag) return;
    if (drag.pan) { panX += p.x - drag.x; panY += p.y - drag.y; }
    else { yaw += (p.x - drag.x) * 0.01; pitch += (p.y - drag.y) * 0.01; }
    drag.x = p.x; drag.y = p.y;
    draw();
  });
  window.addEventListener("mouseup", (e) => {
    if (lasso) { finishLasso(); return; }
    if (!drag) return;
    const p = pos(e);
    const moved = Math.hypot(p.x - drag.x0, p.y - drag.y0) > 3;
    drag = null;
    if (moved || e.target !== canvas) return;
    let best: { id: string; d: number } | null = null;
    for (const s of screen) { const d = Math.hypot(s.x - p.x, s.y - p.y); if (d < 8 && (!best || d < best.d)) best = { id: s.id, d }; }
    if (best) store.select(best.id);
  });
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); zoom *= e.deltaY < 0 ? 1.1 : 1 / 1.1; draw(); }, { passive: false });
  navBtn.addEventListener("click", () => setTool("nav"));
  lassoBtn.addEventListener("click", () => setTool("lasso"));
  resetBtn.addEventListener("click", () => { yaw = 0.6; pitch = 0.3; zoom = 1; panX = 0; panY = 0; draw(); });
  cancelBtn.addEventListener("click", () => { if (job && job.state === "running") void projectionJobs.cancel(job.id).catch(() => undefined); });
  dims.addEventListener("change", () => { store.projection = dims.value; store.syncUrl(); void load(); });
  colour.addEventListener("change", () => draw());
  store.on("selection", () => draw());
  store.on("predictions", () => draw());
  store.on("examples", () => draw());
  // Start once the first predictions have arrived:
  // they are what the user waits for, and the job would compete with them for the model.
  let started = false;
  const begin = () => { if (!started) { started = true; void load(); } };
  store.on("predictions", begin);
  store.on("predictions-done", begin);
  setTimeout(begin, 5000); // predictions failed or are slow: project anyway
  // For tests and tools: where each point is drawn, in canvas pixels.
  Object.assign(canvas, { projectorPoints: () => screen.map((s) => ({ id: s.id, x: s.x, y: s.y })) });
  return panel("projector", "Embeddings projector (last block, first token)",
    h("div", { class: "toolbar" }, dims, colour, navBtn, lassoBtn, resetBtn),
    h("div", { class: "toolbar" }, bar, cancelBtn, status), canvas, legend,
    h("p", { class: "hint" }, "Drag to rotate (3-D) or pan (2-D, or shift-drag), wheel to zoom, click a point to select it; lasso: draw around points to filter the table."));
}
