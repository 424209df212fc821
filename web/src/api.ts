// The server's JSON API (src/Glassbox.Server/GlassboxServer.cs): typed requests and responses.

export interface FieldSpec { type: string; vocab?: string[]; required: boolean; parent?: string }
export interface ModelInfo {
  name: string; source: string; architecture: string; task: string; labels: string[];
  inputSpec: Record<string, FieldSpec>; outputSpec: Record<string, FieldSpec>;
  interpreters: string[]; attention: boolean; generators: string[]; metrics: string[]; projections: string[]; maxTokens: number;
}
export interface DatasetInfo { name: string; file: string; size: number; spec: Record<string, FieldSpec>; labels: string[]; compatibleModels: string[] }
export interface Info { version: string; models: ModelInfo[]; datasets: DatasetInfo[]; limits: { maxBatch: number; maxTextChars: number } }

export interface Datapoint { id?: string; text: string; pair?: string | null; label?: string | null; parentId?: string | null; source?: string | null }
export interface TokenTag { index: number; token: string; tag: string; probability: number; start: number; end: number; special: boolean }
export interface Prediction {
  task: string; tokens: string[]; truncated?: boolean; probabilities?: number[]; label?: string; labelIndex?: number; labels?: string[];
  value?: number; tags?: TokenTag[]; answer?: { text: string; start: number; end: number; score: number }; generatedText?: string;
  spans?: { start: number; end: number; label: string; text: string }[];
}
export interface SalienceToken { token: string; start: number; end: number; sequence: number; special: boolean; score: number; raw: number }
export interface SalienceWord { word: string; start: number; end: number; sequence: number; tokenIndices: number[]; score: number; raw: number }
export interface SalienceResult { method: string; target: string; tokens: SalienceToken[]; words: SalienceWord[]; convergenceDelta?: number; warnings: string[]; seconds: number }
export interface InterpretResponse { model: string; targets: string[]; target: string; results: SalienceResult[] }
export interface AttentionResponse { model: string; tokens: string[]; layers: number; heads: number; patterns: number[][][][] }

export class ApiError extends Error {
  constructor(message: string, public status: number, public code: string) { super(message); }
}

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    const e = json as { error?: string; code?: string } | null;
    throw new ApiError(e?.error ?? `${method} ${path} failed with HTTP ${res.status}`, res.status, e?.code ?? "http_error");
  }
  return json as T;
}

export const api = {
  info: () => call<Info>("GET", "/api/info"),
  dataset: (name: string) => call<{ name: string; total: number; examples: Datapoint[] }>("GET", `/api/dataset?name=${encodeURIComponent(name)}`),
  predict: (model: string, inputs: Datapoint[], signal?: AbortSignal) =>
    call<{ predictions: Prediction[]; cached: number }>("POST", "/api/predict", { model, inputs }, signal),
  predictIds: (model: string, dataset: string, ids: string[], signal?: AbortSignal) =>
    call<{ ids: string[]; predictions: Prediction[]; cached: number }>("POST", "/api/predict", { model, dataset, ids }, signal),
  interpret: (model: string, input: Datapoint, methods: string[], target: string | null, signal?: AbortSignal) =>
    call<InterpretResponse>("POST", "/api/interpret", { model, input, methods, target }, signal),
  attention: (model: string, input: Datapoint, signal?: AbortSignal) =>
    call<AttentionResponse>("POST", "/api/attention", { model, input }, signal),
  saved: (dataset: string) => call<{ datapoints: Datapoint[] }>("GET", `/api/datapoints?dataset=${encodeURIComponent(dataset)}`),
  save: (dataset: string, datapoints: Datapoint[]) => call<{ datapoints: Datapoint[] }>("POST", "/api/datapoints", { dataset, datapoints }),
};

/** Strips the fields the model does not read, so a datapoint can be sent as a model input. */
export function asInput(d: Datapoint): Datapoint {
  const x: Datapoint = { text: d.text };
  if (d.pair) x.pair = d.pair;
  return x;
}

export interface SliceMetrics { slice: string; count: number; ids: string[]; accuracy?: number; macroF1?: number; confusionMatrix?: number[][]; rocAuc?: number; regression?: { meanSquaredError: number; pearson: number; spearman: number }; note?: string }
export interface MetricsResponse { labels: string[]; skipped: number; slices: SliceMetrics[] }
export interface ProjectResponse { ids: string[]; points: number[][]; dimensions: number; explainedVarianceRatio?: number[] }
export interface GeneratedDatapoint { text: string; generator: string; edits: { original: string; replacement: string }[]; predictedLabel?: string; probability?: number; flipped?: boolean }

export const analysisApi = {
  metrics: (model: string, dataset: string, facet: string | null, signal?: AbortSignal) =>
    call<MetricsResponse>("POST", "/api/metrics", { model, dataset, facet }, signal),
  project: (model: string, dataset: string, method: string, dimensions: number, signal?: AbortSignal) =>
    call<ProjectResponse>("POST", "/api/project", { model, dataset, method, dimensions }, signal),
  generate: (model: string, generator: string, input: Datapoint, rules: string | null, signal?: AbortSignal) =>
    call<{ counterfactuals: GeneratedDatapoint[] }>("POST", "/api/generate", { model, generator, input, rules, count: 5 }, signal),
};

/** A projection job as GET /api/project/jobs/{id} returns it (the projector polls it). */
export interface ProjectionJob {
  id: string; model: string; dataset: string; method: string; dimensions: number; count: number;
  state: "running" | "done" | "failed" | "cancelled"; stage: string; done: number; total: number; progress: number; seconds: number; stages: { name: string; startedSeconds: number }[];
  result?: ProjectResponse; error?: { error: string; code: string };
}

export const projectionJobs = {
  start: (model: string, dataset: string, method: string, dimensions: number) => call<ProjectionJob>("POST", "/api/project/jobs", { model, dataset, method, dimensions }),
  get: (id: string) => call<ProjectionJob>("GET", `/api/project/jobs/${encodeURIComponent(id)}`),
  cancel: (id: string) => call<ProjectionJob>("DELETE", `/api/project/jobs/${encodeURIComponent(id)}`),
};

/** Metrics sliced by a facet: label, predicted, correctness, length or field:NAME; numeric facets binned (quantile or equal-width). */
export const facetApi = {
  metrics: (model: string, dataset: string, facet: string | null, binning: string | null, bins: number | null, signal?: AbortSignal) =>
    call<MetricsResponse>("POST", "/api/metrics", { model, dataset, facet, binning, bins }, signal),
};

// Concepts (src/Glassbox.Server/ConceptEndpoints.cs): TCAV and the phrase tree.
export interface TcavModuleInfo { layers: string[]; defaultLayers: string[]; minConceptExamples: number; defaultRuns: number; maxRuns: number; maxLayers: number }
export interface HierarchyModuleInfo { methods: string[]; maxSamples: number; maxWords: number }
export interface ConceptModules { tcav?: TcavModuleInfo; hierarchy?: HierarchyModuleInfo }
// Merged into ModelInfo above: /api/info lists the concept modules a model supports.
export interface ModelInfo { concepts?: ConceptModules }
export interface TcavRequest {
  model: string; dataset: string; conceptIds: string[]; conceptName?: string; negativeIds?: string[]; negativeName?: string;
  class: string; layers: string[]; pooling?: "cls" | "mean"; runs?: number; seed?: number; alpha?: number; classExamples?: "predicted" | "gold";
}
export interface TcavLayerResult {
  layer: string; score: number; scoreStd: number; runScores: number[]; randomScores: number[]; randomMean: number; randomStd: number;
  pValue?: number; significant: boolean; cavAccuracy: number; summary: string;
  scorePValue?: number; cavPValue?: number; randomCavAccuracy?: number;
}
export interface TcavResponse {
  model: string; dataset: string; concept: string; negative?: string; className: string; classIndex: number; classExamplesFrom: string;
  conceptExamples: number; negativeExamples?: number; classExamples: number; pooling: string; runs: number; seed: number; alpha: number;
  results: TcavLayerResult[]; seconds: number;
}
export interface HierarchyNode { start: number; end: number; text: string; score: number; interaction: number; children: HierarchyNode[] }
export interface HierarchyResponse {
  model: string; text: string; labels: string[]; targetIndex: number; target: string; inputScore: number; words: string[];
  method: string; scoring: string; tree: HierarchyNode; summary: string; parameters: Record<string, string>; seconds: number;
}

export const conceptApi = {
  tcav: (req: TcavRequest, signal?: AbortSignal) => call<TcavResponse>("POST", "/api/tcav", req, signal),
  hierarchy: (model: string, input: Datapoint, method: string, cls: string | null, signal?: AbortSignal) =>
    call<HierarchyResponse>("POST", "/api/hierarchy", { model, input, method, class: cls }, signal),
};

// Per-datapoint analyses (src/Glassbox.Server/AnalysisEndpoints.cs, LmEndpoints.cs): language-model
// salience and logit lens, nearest training examples, explanation-quality scores.
export interface AnalysisModules { modules: string[]; lmAttributions: string[]; trainingPools: string[]; qualityMethods: string[]; qualityMetrics: string[] }
export interface ModelInfo { analysis?: AnalysisModules }
export interface LmToken { id: number; token: string; text: string }
export interface LmCandidate { token: string; text: string; probability: number }
export interface LmGeneratedToken { position: number; token: LmToken; probability: number; alternatives: LmCandidate[]; attribution?: number[]; convergenceDelta?: number }
export interface LmResponse {
  model: string; method: string; steps: number; tokens: LmToken[]; inputTokens: number; firstGenerated: number; generatedText: string; finishReason: string;
  generated: LmGeneratedToken[]; layers: number; rankings: number[][]; layerPredictions: { position: number; layers: LmCandidate[][] }[]; lens: string; seconds: number;
}
export interface NeighbourExample { rank: number; id: string; text: string; label?: string; similarity: number; sameAsPrediction?: boolean }
export interface NeighboursResponse { model: string; pool: string; poolSize: number; representation: string; metric: string; predictedLabel?: string; excludedSelf: boolean; neighbours: NeighbourExample[]; seconds: number }
export interface MethodQualityScores { method: string; baseline: boolean; metrics: Record<string, number | null>; seconds: number }
export interface QualityResponse { model: string; target: string; targetProbability: number; textTokens: number; metrics: string[]; higherIsBetter: Record<string, boolean>; methods: MethodQualityScores[]; parameters: Record<string, string>; warnings: string[] }

/** True when /api/info lists the analysis module for the model. */
export function hasModule(m: ModelInfo, module: string): boolean { return m.analysis?.modules.includes(module) ?? false; }

export const exampleApi = {
  lm: (model: string, text: string, maxNewTokens: number, method: string, signal?: AbortSignal) =>
    call<LmResponse>("POST", "/api/lm", { model, input: { text }, maxNewTokens, method, topK: 5 }, signal),
  neighbours: (model: string, input: Datapoint, pool: string, k: number, signal?: AbortSignal) =>
    call<NeighboursResponse>("POST", "/api/neighbours", { model, input: { id: input.id, text: input.text }, pool, k }, signal),
  quality: (model: string, input: Datapoint, methods: string[], target: string, signal?: AbortSignal) =>
    call<QualityResponse>("POST", "/api/quality", { model, input: { text: input.text, label: input.label ?? null }, methods, target }, signal),
};

export interface ModelSliceScores { model: string; accuracy: number; macroF1: number }
export interface PairSliceScores {
  first: string; second: string; agreement: number; kappa?: number; bothCorrect: number; onlyFirstCorrect: number; onlySecondCorrect: number; bothWrong: number;
  mcNemarPValue: number; onlyFirstCorrectIds: string[]; onlySecondCorrectIds: string[];
}
export interface CompareSlice { slice: string; count: number; ids: string[]; models: ModelSliceScores[]; pairs: PairSliceScores[]; note?: string }
export interface CompareResponse { models: string[]; dataset: string; labels: string[]; skipped: number; disagreements: string[]; slices: CompareSlice[] }

export const compareApi = {
  compare: (models: string[], dataset: string, facet: string | null, signal?: AbortSignal) =>
    call<CompareResponse>("POST", "/api/compare", { models, dataset, facet }, signal),
};
