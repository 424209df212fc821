// Per-datapoint analyses beyond salience maps, on the libraries of Glassbox.Explain:
//
//   POST /api/lm         {model, input:{text}, maxNewTokens?, method?, steps?, topK?}
//                        language models: the greedy continuation, each generated token's
//                        attribution to every earlier token (Ecco's primary attributions), the
//                        logit lens (each layer's top tokens at each generated position) and the
//                        rank of every generated token under every layer (LmEndpoints.cs)
//   POST /api/neighbours {model, input:{id?, text}, pool, k?}
//                        classifiers: the nearest examples of a labelled served dataset (the
//                        "training" pool) by cosine similarity of the model's pooled
//                        representation (the first token leaving the last block)
//   POST /api/quality    {model, input:{text, label?}, methods:[...], target?, steps?, samples?}
//                        classifiers: faithfulness of each salience method on the datapoint
//                        (ERASER comprehensiveness and sufficiency, AOPC, deletion/insertion
//                        areas, Kendall τ against leave-one-out) beside a random ranking
//
// Each module is listed under "analysis" in the model's /api/info entry only when the model's
// task fits; an endpoint asked about a model it does not fit answers 400 naming the model's task.
using System.Collections.Concurrent;
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;
using Glassbox.Explain.TrainingData;
using Glassbox.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Glassbox.Server;

/// <summary>Which per-datapoint analysis modules a model has in the app (its /api/info "analysis" entry).</summary>
/// <param name="Modules">Module names: lm-salience, logit-lens, layer-predictions (language models); nearest-examples, explanation-quality (classifiers).</param>
/// <param name="LmAttributions">Attribution methods of the LM salience module (Ecco's: ig, saliency, grad_x_input).</param>
/// <param name="TrainingPools">Served datasets that can serve as the nearest-examples pool (labelled, single text).</param>
/// <param name="QualityMethods">Salience methods the explanation-quality module can score.</param>
/// <param name="QualityMetrics">The faithfulness metrics it reports.</param>
public sealed record AnalysisModules(IReadOnlyList<string> Modules, IReadOnlyList<string> LmAttributions, IReadOnlyList<string> TrainingPools,
    IReadOnlyList<string> QualityMethods, IReadOnlyList<string> QualityMetrics);

public sealed partial record ModelInfo
{
    /// <summary>The per-datapoint analysis modules that apply to the model (see AnalysisEndpoints.cs).</summary>
    public AnalysisModules? Analysis { get; init; }
}

public sealed record NeighboursRequest
{
    public string? Model { get; init; }
    /// <summary>The datapoint whose neighbours are wanted; its id (when it is a pool example) keeps it out of its own list.</summary>
    public Datapoint? Input { get; init; }
    /// <summary>The served dataset searched (one of the model's trainingPools in /api/info).</summary>
    public string? Pool { get; init; }
    public int? K { get; init; }
}

/// <summary>A pool example near the query: cosine similarity, the example's gold label, and whether it equals the query's predicted label.</summary>
public sealed record NeighbourExample(int Rank, string Id, string Text, string? Label, double Similarity, bool? SameAsPrediction);

public sealed record NeighboursResponse(string Model, string Pool, int PoolSize, string Representation, string Metric,
    string? PredictedLabel, bool ExcludedSelf, IReadOnlyList<NeighbourExample> Neighbours, double Seconds);

public sealed record QualityRequest
{
    public string? Model { get; init; }
    public Datapoint? Input { get; init; }
    /// <summary>Salience methods to score (names as /api/interpret takes them).</summary>
    public IReadOnlyList<string>? Methods { get; init; }
    /// <summary>"predicted" (default) or "label" (the datapoint's gold label).</summary>
    public string? Target { get; init; }
    public int? Steps { get; init; }
    public int? Samples { get; init; }
}

/// <summary>One method's faithfulness on the datapoint; Baseline marks the random ranking every method should beat.</summary>
public sealed record MethodQualityScores(string Method, bool Baseline, IReadOnlyDictionary<string, double?> Metrics, double Seconds);

public sealed record QualityResponse(string Model, string Target, double TargetProbability, int TextTokens, IReadOnlyList<string> Metrics,
    IReadOnlyDictionary<string, bool> HigherIsBetter, IReadOnlyList<MethodQualityScores> Methods, IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> Warnings);

/// <summary>What the analysis endpoints need of the server: its models, datasets, limits and bounded work queue.</summary>
internal sealed record AnalysisContext(IReadOnlyDictionary<string, ModelHost> Models, DatasetStore Data, ServerOptions Options,
    Func<ModelHost, Func<object>, CancellationToken, Task<object>> RunBoxed)
{
    /// <summary>Pool indexes by model and dataset (built once), the locks that keep them from being built twice, and the quality explainers.</summary>
    public ConcurrentDictionary<(ModelHost, string), RepresentationIndex> Indexes { get; } = new();
    public ConcurrentDictionary<(ModelHost, string), Lazy<SemaphoreSlim>> IndexLocks { get; } = new();
    public ConcurrentDictionary<ModelHost, SequenceClassificationExplainer> Explainers { get; } = new();

    public async Task<T> Run<T>(ModelHost m, Func<T> work, CancellationToken ct) where T : notnull => (T)await RunBoxed(m, () => work(), ct);

    public ModelHost Model(string? name)
    {
        if (string.IsNullOrEmpty(name)) throw new ApiException(400, "missing_field", $"'model' is missing; served models: {string.Join(", ", Models.Keys)}.");
        return Models.TryGetValue(name, out var m) ? m
            : throw new ApiException(404, "unknown_model", $"unknown model '{name}'; served models: {string.Join(", ", Models.Keys)}.");
    }

    /// <summary>The input datapoint of a request, checked against the limits and the model's input spec.</summary>
    public Datapoint Input(ModelHost m, Datapoint? d, string shape)
    {
        if (d is null) throw new ApiException(400, "missing_field", $"'input' is missing; send {shape}.");
        if (d.Text is null) throw new ApiException(400, "missing_field", "input: 'text' is missing.");
        m.CheckInput(d, Options.MaxTextChars, "input");
        return d;
    }
}

internal static class AnalysisEndpoints
{
    public const string LmSalience = "lm-salience";
    public const string LogitLens = "logit-lens";
    public const string LayerPredictions = "layer-predictions";
    public const string NearestExamples = "nearest-examples";
    public const string ExplanationQuality = "explanation-quality";
    /// <summary>Most neighbours one request returns.</summary>
    public const int MaxNeighbours = 100;
    /// <summary>Pool examples embedded per unit of model work (the gate is released between chunks, and cancellation is checked).</summary>
    private const int EmbedChunk = 64;


    /// <summary>Registers /api/lm, /api/neighbours and /api/quality.</summary>
    public static void MapExampleAnalysis(this WebApplication app, AnalysisContext ctx)
    {
        app.MapPost("/api/lm", Handle(async c => await LmEndpoints.Analyze(ctx, await Body<LmRequest>(c), c.RequestAborted)));
        app.MapPost("/api/neighbours", Handle(async c => await Neighbours(ctx, await Body<NeighboursRequest>(c), c.RequestAborted)));
        app.MapPost("/api/quality", Handle(async c => await Quality(ctx, await Body<QualityRequest>(c), c.RequestAborted)));
    }

    /// <summary>The modules of a model, for /api/info.</summary>
    public static AnalysisModules Modules(ModelHost m, IEnumerable<ServedDataset> datasets)
    {
        var modules = new List<string>();
        IReadOnlyList<string> lm = [], pools = [], quality = [];
        if (LmEndpoints.Applies(m))
        {
            modules.AddRange([LmSalience, LogitLens, LayerPredictions]);
            lm = LmEndpoints.Methods;
        }
        if (NeighboursApply(m))
        {
            pools = datasets.Where(d => d.HasLabel && !d.HasPair && d.Examples.Count > 0).Select(d => d.Name).ToArray();
            if (pools.Count > 0) modules.Add(NearestExamples);
        }
        if (QualityApplies(m))
        {
            modules.Add(ExplanationQuality);
            quality = m.Interpreters;
        }
        return new AnalysisModules(modules, lm, pools, quality, quality.Count > 0 ? QualityMetrics.Faithfulness : []);
    }

    private static bool NeighboursApply(ModelHost m) =>
        m.IsNative && m.Task is ServedTasks.Classification or ServedTasks.MultiLabel or ServedTasks.Regression && m.Model.Hooks is not null;

    // Models served from a spec (ModelHost.Custom) have no hook points or token removal: neither module is listed for them.
    private static bool QualityApplies(ModelHost m) => m.IsNative && m.Task is ServedTasks.Classification && m.Interpreters.Count > 0;

    private static RequestDelegate Handle<T>(Func<HttpContext, Task<T>> handler) => async c =>
    {
        var result = await handler(c);
        await c.Response.WriteAsJsonAsync(result, GlassboxServer.Json, c.RequestAborted);
    };

    private static async Task<T> Body<T>(HttpContext c) where T : class
    {
        string? ct = c.Request.ContentType;
        if (ct is null || !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, "unsupported_media_type", $"send the body as application/json, not {ct ?? "nothing"}.");
        T? body;
        try { body = await JsonSerializer.DeserializeAsync<T>(c.Request.Body, GlassboxServer.Json, c.RequestAborted); }
        catch (JsonException e) { throw new ApiException(400, "malformed_json", $"the request body is not valid JSON for {c.Request.Path}: {e.Message}"); }
        return body ?? throw new ApiException(400, "malformed_json", $"the request body of {c.Request.Path} is empty or null; send a JSON object.");
    }

    /// <summary>The hook whose first position is the pooled representation (what a classification head reads).</summary>
    internal static string RepresentationHook(ModelHost m) => $"blocks.{m.Model.LayerCount - 1}.hook_resid_post";

    internal static TransformerExplainable Explainable(ModelHost m) => new(m.Model, m.Name, m.Labels,
        m.Task == ServedTasks.Classification ? OutputTransform.Softmax : m.Task == ServedTasks.MultiLabel ? OutputTransform.Sigmoid : OutputTransform.None);

    private static async Task<NeighboursResponse> Neighbours(AnalysisContext ctx, NeighboursRequest req, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var m = ctx.Model(req.Model);
        if (!NeighboursApply(m))
            throw new ApiException(400, "not_supported", $"model '{m.Name}' is a {m.Task} model; nearest training examples are for sequence classifiers and regressors (pooled representation). See /api/info.");
        var d = ctx.Input(m, req.Input, "{model, pool, input:{id?, text}, k?}");
        if (!string.IsNullOrEmpty(d.Pair)) throw new ApiException(400, "bad_input", "nearest examples compare single texts; remove 'pair'.");
        var pools = Modules(m, ctx.Data.All).TrainingPools;
        if (string.IsNullOrEmpty(req.Pool))
            throw new ApiException(400, "missing_field", $"'pool' is missing; datasets that can serve as model '{m.Name}''s training pool: {(pools.Count == 0 ? "none (serve a labelled dataset with --data)" : string.Join(", ", pools))}.");
        var pool = ctx.Data.Get(req.Pool);
        if (!pools.Contains(pool.Name))
            throw new ApiException(400, "bad_pool", $"dataset '{pool.Name}' cannot serve as a training pool ({(pool.HasPair ? "it has text pairs" : "it has no gold labels")}); usable pools: {(pools.Count == 0 ? "none" : string.Join(", ", pools))}.");
        int k = req.K ?? 10;
        if (k < 1 || k > MaxNeighbours) throw new ApiException(400, "bad_input", $"k must be between 1 and {MaxNeighbours}, not {k}.");

        var index = await Index(ctx, m, pool, ct);
        var prediction = await ctx.Run(m, () => m.Predict(d, 0), ct);
        var query = await ctx.Run(m, () =>
        {
            lock (m.Model) return RepresentationIndex.Represent(Explainable(m), [Encode(m, d.Id ?? "input", d.Text, null)], RepresentationHook(m), Pooling.Cls)[0];
        }, ct);
        var found = index.Search(query, Math.Min(index.Count, k + 1));
        bool self = d.Id is not null && pool.ById.TryGetValue(d.Id, out var same) && same.Text == d.Text.Trim();
        var kept = found.Where(n => !(self && n.Id == d.Id)).Take(k).ToArray();
        var result = kept.Select((n, i) =>
        {
            var example = pool.Examples[n.Index];
            bool? agrees = prediction.Label is { Length: > 0 } && m.Task == ServedTasks.Classification
                ? ModelAnalysis.GoldIndex(m.Labels, example.Label) is int g ? g == prediction.LabelIndex : null
                : null;
            return new NeighbourExample(i + 1, n.Id, example.Text, example.Label, n.Score, agrees);
        }).ToArray();
        return new NeighboursResponse(m.Name, pool.Name, pool.Examples.Count, $"{RepresentationHook(m)}, first token", "cosine similarity (higher = nearer)",
            prediction.Label, self, result, started.Elapsed.TotalSeconds);
    }

    private static EncodedExample Encode(ModelHost m, string id, string text, int? label)
    {
        var e = m.Tokenizer.Encode(text, addSpecialTokens: true);
        return new EncodedExample(id, e.Ids, label, text, e.TypeIds);
    }

    /// <summary>The pool's representations, built once per model and dataset in chunks (the gate is released between
    /// them, and a cancelled request leaves nothing half-built).</summary>
    private static async Task<RepresentationIndex> Index(AnalysisContext ctx, ModelHost m, ServedDataset pool, CancellationToken ct)
    {
        var key = (m, pool.Name);
        if (ctx.Indexes.TryGetValue(key, out var ready)) return ready;
        var gate = ctx.IndexLocks.GetOrAdd(key, _ => new Lazy<SemaphoreSlim>(() => new SemaphoreSlim(1, 1))).Value;
        await gate.WaitAsync(ct);
        try
        {
            if (ctx.Indexes.TryGetValue(key, out ready)) return ready;
            var examples = pool.Examples.Select(e => Encode(m, e.Id!, e.Text, ModelAnalysis.GoldIndex(m.Labels, e.Label))).ToArray();
            string hook = RepresentationHook(m);
            var rows = new float[examples.Length][];
            for (int start = 0; start < examples.Length; start += EmbedChunk)
            {
                ct.ThrowIfCancellationRequested();
                var chunk = examples.Skip(start).Take(EmbedChunk).ToArray();
                int at = start;
                var vectors = await ctx.Run(m, () => { lock (m.Model) return RepresentationIndex.Represent(Explainable(m), chunk, hook, Pooling.Cls); }, ct);
                vectors.CopyTo(rows, at);
            }
            int dim = rows[0].Length;
            var flat = new float[rows.Length * dim];
            for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(flat, i * dim);
            var index = new RepresentationIndex(examples, flat, dim, hook, Pooling.Cls);
            ctx.Indexes[key] = index;
            return index;
        }
        finally { gate.Release(); }
    }

    private static async Task<QualityResponse> Quality(AnalysisContext ctx, QualityRequest req, CancellationToken ct)
    {
        var m = ctx.Model(req.Model);
        if (!QualityApplies(m))
            throw new ApiException(400, "not_supported", $"model '{m.Name}' is a {m.Task} model; explanation-quality scores need a sequence classifier with salience methods. See /api/info.");
        var d = ctx.Input(m, req.Input, "{model, input:{text, label?}, methods:[...], target?}");
        if (!string.IsNullOrEmpty(d.Pair)) throw new ApiException(400, "bad_input", "explanation quality scores single texts; remove 'pair'.");
        var methods = req.Methods is { Count: > 0 } ms ? ms : ["lig"];
        if (methods.Count > m.Interpreters.Count) throw new ApiException(400, "bad_input", $"at most {m.Interpreters.Count} methods per request.");
        if (methods.Distinct().Count() != methods.Count) throw new ApiException(400, "bad_input", "a method is listed twice.");
        foreach (var name in methods)
            if (!m.Interpreters.Contains(name))
                throw new ApiException(400, "unknown_method", $"unknown salience method '{name}' for model '{m.Name}'; available: {string.Join(", ", m.Interpreters)}.");
        int steps = req.Steps ?? 50, samples = req.Samples ?? 200;
        if (steps < 1 || steps > ctx.Options.MaxSteps) throw new ApiException(400, "bad_input", $"steps must be between 1 and {ctx.Options.MaxSteps}, not {steps}.");
        if (samples < 1 || samples > ctx.Options.MaxSamples) throw new ApiException(400, "bad_input", $"samples must be between 1 and {ctx.Options.MaxSamples}, not {samples}.");
        var target = req.Target ?? "predicted";
        int? label = null;
        switch (target)
        {
            case "predicted": break;
            case "label":
                label = ModelAnalysis.GoldIndex(m.Labels, d.Label)
                    ?? throw new ApiException(400, "no_gold_label", $"target 'label' needs the datapoint's gold label as one of model '{m.Name}''s labels ({string.Join(", ", m.Labels)}) or its index; the datapoint has {(string.IsNullOrEmpty(d.Label) ? "none" : $"'{d.Label}'")}.");
                break;
            default: throw new ApiException(400, "bad_input", $"target must be 'predicted' or 'label', not '{target}'.");
        }
        var options = ExplainerOptions(steps, samples);
        var quality = QualityOptions(label is null ? QualityTarget.Predicted : QualityTarget.Label);
        var example = new EvaluationExample(d.Text) { Id = d.Id, Label = label };
        var explainer = ctx.Explainers.GetOrAdd(m, h => new SequenceClassificationExplainer(h.Model, h.Tokenizer, h.Folder));

        // One method per unit of work: the gate is released between methods and cancellation is checked.
        var rows = new List<MethodQualityScores>();
        var warnings = new List<string>();
        ExampleQuality? first = null;
        for (int i = 0; i < methods.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var method = AttributionMethods.Parse(methods[i]);
            var o = quality with { IncludeRandomBaseline = i == 0 };
            var started = System.Diagnostics.Stopwatch.StartNew();
            var report = await ctx.Run(m, () => new ExplanationEvaluator(explainer, o).Evaluate([example], [method], options), ct);
            double seconds = started.Elapsed.TotalSeconds;
            first ??= report.Examples[0];
            warnings.AddRange(report.Warnings);
            foreach (var (name, scores) in report.Examples[0].Methods)
                rows.Add(new MethodQualityScores(name, name == ExplanationEvaluator.RandomBaseline,
                    QualityMetrics.Faithfulness.ToDictionary(k => k, k => double.IsFinite(scores.Metrics[k]) ? scores.Metrics[k] : (double?)null),
                    name == ExplanationEvaluator.RandomBaseline ? 0 : seconds));
        }
        // The random baseline last, as the row to beat.
        rows = [.. rows.Where(r => !r.Baseline), .. rows.Where(r => r.Baseline)];
        var ex = first!;
        var anyScores = ex.Methods.Values.First();
        return new QualityResponse(m.Name, ex.TargetName, anyScores.Faithfulness.FullScore, anyScores.Faithfulness.TextTokens, QualityMetrics.Faithfulness,
            QualityMetrics.Faithfulness.ToDictionary(k => k, QualityMetrics.HigherIsBetter), rows,
            new Dictionary<string, string>
            {
                ["removal"] = "delete (ERASER)", ["bins"] = "1, 5, 10, 20, 50% of the text tokens", ["steps"] = steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["samples"] = samples.ToString(System.Globalization.CultureInfo.InvariantCulture), ["target"] = target,
            },
            warnings.Distinct().ToArray());
    }

    /// <summary>The explainer settings of /api/quality (the same the salience module uses).</summary>
    internal static ExplainerOptions ExplainerOptions(int steps, int samples) => new() { Steps = steps, Samples = samples, InternalBatchSize = 25 };

    /// <summary>The evaluation settings of /api/quality: ERASER's defaults on one example.</summary>
    internal static QualityOptions QualityOptions(QualityTarget target) => new() { Target = target, IncludeRandomBaseline = true, Seed = 0 };
}
