// Concept-level and phrase-level explanations in the web app, on top of the library's TCAV
// (Glassbox.Explain.Concepts) and hierarchical explainer (Glassbox.Explain.Hierarchy):
//
//   POST /api/tcav       {model, dataset, conceptIds, conceptName?, negativeIds?, negativeName?, class, layers,
//                         pooling?, runs?, seed?, alpha?, classExamples?: predicted|gold}
//                        per-layer TCAV score, random-run summary, p-value, significance, CAV accuracy, sentence
//   POST /api/hierarchy  {model, input:{text}, method?: soc|agglomerative, class?, samples?, radius?, seed?}
//                        the phrase tree (spans with scores and interaction terms) and its sentence
//
// As in LIT's TCAV module, the concept is a set of dataset rows the user picked (starred rows, a
// slice), the random counter-examples are drawn from the dataset's other rows, and the class's
// examples are the rows the model predicts as that class (or, on request, the rows whose gold label
// is that class). Everything numerical is the library's: this file validates, bounds and maps.
//
// TCAV needs gradients at hook points, so it is offered only for native transformer classifiers;
// the phrase tree only calls the model's forward pass. Both run under the model's gate (one
// computation per model), layer by layer for TCAV, and stop at the next forward pass when the
// client goes away (a hook on the embeddings checks the request's cancellation token).
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Glassbox.Explain;
using Glassbox.Explain.Concepts;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Hierarchy;
using Glassbox.Explain.Summaries;
using Glassbox.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Glassbox.Server;

/// <summary>Body of POST /api/tcav.</summary>
public sealed record TcavRequest
{
    public string? Model { get; init; }
    public string? Dataset { get; init; }
    /// <summary>Ids of the concept's examples (dataset rows or saved datapoints); at least 10.</summary>
    public IReadOnlyList<string>? ConceptIds { get; init; }
    public string? ConceptName { get; init; }
    /// <summary>Relative TCAV: ids of the concept the first one is contrasted with (at least 10) instead of random sets.</summary>
    public IReadOnlyList<string>? NegativeIds { get; init; }
    public string? NegativeName { get; init; }
    /// <summary>The class whose sensitivity to the concept is measured (one of the model's labels).</summary>
    [JsonPropertyName("class")]
    public string? ClassName { get; init; }
    /// <summary>Hook points, e.g. blocks.1.hook_resid_post.</summary>
    public IReadOnlyList<string>? Layers { get; init; }
    /// <summary>cls (default) or mean.</summary>
    public string? Pooling { get; init; }
    /// <summary>Concept-vs-random runs (and as many random-vs-random runs); default 10.</summary>
    public int? Runs { get; init; }
    public int? Seed { get; init; }
    /// <summary>Significance level of the t-test; default 0.05.</summary>
    public double? Alpha { get; init; }
    /// <summary>Which rows count as the class's examples: "predicted" (default, as LIT) or "gold".</summary>
    public string? ClassExamples { get; init; }
}

/// <summary>TCAV at one layer.</summary>
/// <param name="Layer">The hook point.</param>
/// <param name="Score">Mean TCAV score over the concept's runs.</param>
/// <param name="ScoreStd">Standard deviation of the run scores.</param>
/// <param name="RunScores">Each concept run's score.</param>
/// <param name="RandomScores">Each random-vs-random run's score (the null distribution).</param>
/// <param name="RandomMean">Mean of RandomScores.</param>
/// <param name="RandomStd">Standard deviation of RandomScores.</param>
/// <param name="PValue">The library's significance p-value (the larger of the score and CAV-accuracy tests by default; null if undefined).</param>
/// <param name="Significant">PValue &lt; alpha.</param>
/// <param name="CavAccuracy">Mean held-out accuracy of the concept's CAVs.</param>
/// <param name="Summary">The result in words, with its significance.</param>
/// <param name="ScorePValue">Two-sided t-test p-value of the run scores against the random ones (Kim et al.'s test).</param>
/// <param name="CavPValue">One-sided p-value that the concept's CAVs are more accurate than random concepts' (the layer represents it).</param>
/// <param name="RandomCavAccuracy">Mean held-out accuracy of the random-vs-random CAVs.</param>
public sealed record TcavLayerResult(string Layer, double Score, double ScoreStd, IReadOnlyList<double> RunScores, IReadOnlyList<double> RandomScores,
    double RandomMean, double RandomStd, double? PValue, bool Significant, double CavAccuracy, string Summary,
    double? ScorePValue, double? CavPValue, double? RandomCavAccuracy);

/// <summary>Answer of POST /api/tcav.</summary>
public sealed record TcavResponse(string Model, string Dataset, string Concept, string? Negative, string ClassName, int ClassIndex,
    string ClassExamplesFrom, int ConceptExamples, int? NegativeExamples, int ClassExamples, string Pooling, int Runs, int Seed, double Alpha,
    IReadOnlyList<TcavLayerResult> Results, double Seconds);

/// <summary>Body of POST /api/hierarchy.</summary>
public sealed record HierarchyRequest
{
    public string? Model { get; init; }
    public Datapoint? Input { get; init; }
    /// <summary>soc (default: sampling-and-occlusion scores) or agglomerative (plain occlusion scores); both build the agglomerative tree.</summary>
    public string? Method { get; init; }
    /// <summary>The explained class; default the predicted one.</summary>
    [JsonPropertyName("class")]
    public string? ClassName { get; init; }
    /// <summary>SOC: sampled contexts per phrase (default 20).</summary>
    public int? Samples { get; init; }
    /// <summary>SOC: words resampled on each side of a phrase (default 10).</summary>
    public int? Radius { get; init; }
    public int? Seed { get; init; }
}

/// <summary>A node of the phrase tree: words [Start, End), the phrase's score and its children's interaction.</summary>
public sealed record HierarchyNode(int Start, int End, string Text, double Score, double Interaction, IReadOnlyList<HierarchyNode> Children);

/// <summary>Answer of POST /api/hierarchy.</summary>
public sealed record HierarchyResponse(string Model, string Text, IReadOnlyList<string> Labels, int TargetIndex, string Target, double InputScore,
    IReadOnlyList<string> Words, string Method, string Scoring, HierarchyNode Tree, string Summary, IReadOnlyDictionary<string, string> Parameters,
    double Seconds);

/// <summary>TCAV as /api/info lists it for a model: the hook points it accepts and the bounds.</summary>
public sealed record TcavModule(IReadOnlyList<string> Layers, IReadOnlyList<string> DefaultLayers, int MinConceptExamples, int DefaultRuns, int MaxRuns, int MaxLayers);

/// <summary>The phrase tree as /api/info lists it for a model.</summary>
public sealed record HierarchyModule(IReadOnlyList<string> Methods, int MaxSamples, int MaxWords);

/// <summary>The concept-level modules a model supports (absent ones are null).</summary>
public sealed record ConceptModules(TcavModule? Tcav, HierarchyModule? Hierarchy);

public sealed partial record ModelInfo
{
    /// <summary>TCAV and the hierarchical view, when the model supports them.</summary>
    public ConceptModules? Concepts { get; init; }
}

/// <summary>What the concept endpoints need from the server: model lookup, data, limits, the work gate and cached predictions.</summary>
internal sealed record ConceptServices(
    Func<string?, ModelHost> Model,
    DatasetStore Data,
    ServerOptions Options,
    Func<ModelHost, Func<object>, CancellationToken, Task<object>> Run,
    Func<ModelHost, string?, IReadOnlyList<string>?, CancellationToken, Task<(IReadOnlyList<Datapoint> Points, Prediction[] Predictions)>> PredictSelection);

internal static class ConceptEndpoints
{
    private const int MinConceptExamples = 10;
    /// <summary>The library's default number of runs.</summary>
    private static readonly int DefaultRuns = new TcavOptions { Layer = "" }.Runs;
    private static readonly string[] HierarchyMethods = ["soc", "agglomerative"];

    private sealed class State(Tcav? tcav, IReadOnlyList<string> hookPoints, ConceptModules? modules)
    {
        public Tcav? Tcav { get; } = tcav;
        public IReadOnlyList<string> HookPoints { get; } = hookPoints;
        public ConceptModules? Modules { get; } = modules;
    }

    private static readonly ConditionalWeakTable<ModelHost, State> s_state = new();

    /// <summary>The modules /api/info lists for <paramref name="m"/> (null when neither applies).</summary>
    public static ConceptModules? Modules(ModelHost m) => s_state.TryGetValue(m, out var s) ? s.Modules : null;

    /// <summary>Maps /api/tcav and /api/hierarchy; reads every model's hook points once (one short forward pass each), before any request.</summary>
    public static void MapConcepts(this WebApplication app, IEnumerable<ModelHost> models, ConceptServices services)
    {
        foreach (var m in models) s_state.AddOrUpdate(m, Describe(m, services.Options));
        app.MapPost("/api/tcav", Handle(async c => await RunTcav(services, await Body<TcavRequest>(c), c.RequestAborted), GlassboxServer.Json));
        app.MapPost("/api/hierarchy", Handle(async c => await RunHierarchy(services, await Body<HierarchyRequest>(c), c.RequestAborted), s_deepJson));
    }

    private static State Describe(ModelHost m, ServerOptions o)
    {
        // Single-label classifiers: TCAV's "examples of the class" and the tree's "explained class" need one class per input.
        if (m.Task != ServedTasks.Classification) return new State(null, [], null);
        var hierarchy = new HierarchyModule(HierarchyMethods, o.MaxHierarchySamples, o.MaxHierarchyWords);
        // Models served from a spec (ModelHost.Custom) have no hook points (TCAV) and the tree here runs on the native model: neither is listed.
        if (!m.IsNative) return new State(null, [], null);
        var native = m.Model;
        var tcav = new Tcav(native, m.Tokenizer, m.Labels);
        var hooks = tcav.HookPoints();
        var resid = hooks.Where(h => h.StartsWith("blocks.", StringComparison.Ordinal) && h.EndsWith(".hook_resid_post", StringComparison.Ordinal)).ToArray();
        var module = new TcavModule(hooks, resid.TakeLast(Math.Min(4, o.MaxTcavLayers)).ToArray(), MinConceptExamples,
            Math.Min(DefaultRuns, o.MaxTcavRuns), o.MaxTcavRuns, o.MaxTcavLayers);
        return new State(tcav, hooks, new ConceptModules(module, hierarchy));
    }

    private static async Task<TcavResponse> RunTcav(ConceptServices s, TcavRequest req, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var m = s.Model(req.Model);
        var state = s_state.TryGetValue(m, out var st) ? st : null;
        if (state?.Tcav is not { } tcav)
            throw new ApiException(400, "not_supported", m.Task != ServedTasks.Classification
                ? $"TCAV explains single-label classifiers; model '{m.Name}' is {m.Task}. See /api/info for the modules each model has."
                : $"TCAV needs gradients at the model's hook points; model '{m.Name}' is a black-box model without them. Use /api/hierarchy or a perturbation salience method.");
        var d = s.Data.Get(req.Dataset);
        if (d.HasPair)
            throw new ApiException(400, "not_supported", $"TCAV in the app reads single texts, but dataset '{d.Name}' has text pairs; use 'glassbox tcav' on a single-text file.");

        var conceptIds = Distinct(req.ConceptIds, "conceptIds");
        if (conceptIds.Count < MinConceptExamples)
            throw new ApiException(400, "too_few_examples",
                $"the concept has {conceptIds.Count} example{(conceptIds.Count == 1 ? "" : "s")}; TCAV needs at least {MinConceptExamples} (star or slice more rows).");
        IReadOnlyList<string>? negativeIds = req.NegativeIds is null ? null : Distinct(req.NegativeIds, "negativeIds");
        if (negativeIds is not null && negativeIds.Count < MinConceptExamples)
            throw new ApiException(400, "too_few_examples",
                $"the negative concept has {negativeIds.Count} example{(negativeIds.Count == 1 ? "" : "s")}; relative TCAV needs at least {MinConceptExamples}.");
        if (negativeIds is not null && negativeIds.Intersect(conceptIds).FirstOrDefault() is { } both)
            throw new ApiException(400, "bad_input", $"row '{both}' is in both the concept and the negative concept; the two sets must not overlap.");
        int classIndex = ClassIndex(m, req.ClassName, required: true)!.Value;

        if (req.Layers is not { Count: > 0 } layers)
            throw new ApiException(400, "missing_field", $"'layers' is missing or empty; give hook points such as {string.Join(", ", state.Modules!.Tcav!.DefaultLayers)}.");
        if (layers.Count > s.Options.MaxTcavLayers)
            throw new ApiException(400, "too_many_layers", $"{layers.Count} layers in one request; the limit is {s.Options.MaxTcavLayers}.");
        foreach (var layer in layers)
            if (!state.HookPoints.Contains(layer))
                throw new ApiException(400, "unknown_layer", $"'{layer}' is not a hook point of model '{m.Name}'; valid ones are: {string.Join(", ", state.HookPoints)}.");
        if (layers.Distinct(StringComparer.Ordinal).Count() != layers.Count)
            throw new ApiException(400, "bad_input", "'layers' names a hook point twice.");
        int runs = req.Runs ?? Math.Min(DefaultRuns, s.Options.MaxTcavRuns);
        if (runs < 2 || runs > s.Options.MaxTcavRuns)
            throw new ApiException(400, "bad_input", $"runs must be between 2 (the t-test needs two) and {s.Options.MaxTcavRuns}, not {runs}.");
        double alpha = req.Alpha ?? 0.05;
        if (!(alpha > 0 && alpha < 1)) throw new ApiException(400, "bad_input", $"alpha must be between 0 and 1 (exclusive), not {alpha}.");
        var pooling = (req.Pooling ?? "cls") switch
        {
            "cls" => Pooling.Cls,
            "mean" => Pooling.Mean,
            var p => throw new ApiException(400, "bad_input", $"pooling must be 'cls' or 'mean', not '{p}'."),
        };
        string from = req.ClassExamples ?? "predicted";
        if (from is not ("predicted" or "gold"))
            throw new ApiException(400, "bad_input", $"classExamples must be 'predicted' (rows the model predicts as the class) or 'gold' (rows labelled with it), not '{from}'.");

        var concept = s.Data.Resolve(d, conceptIds);
        var negative = negativeIds is null ? null : s.Data.Resolve(d, negativeIds);
        foreach (var p in concept.Concat(negative ?? []))
            if (string.IsNullOrWhiteSpace(p.Text)) throw new ApiException(400, "bad_input", $"row '{p.Id}' has no text.");

        // The class's examples: the dataset's rows predicted (or labelled) as the class, a seeded sample when there are too many.
        int seed = req.Seed ?? 0;
        IReadOnlyList<Datapoint> rows = d.Examples;
        List<Datapoint> classRows;
        if (from == "predicted")
        {
            var (points, predictions) = await s.PredictSelection(m, d.Name, null, ct);
            rows = points;
            classRows = points.Where((_, i) => predictions[i].LabelIndex == classIndex).ToList();
        }
        else
        {
            if (!d.HasLabel) throw new ApiException(400, "bad_input", $"dataset '{d.Name}' has no gold labels; use classExamples 'predicted'.");
            classRows = rows.Where(p => ModelAnalysis.GoldIndex(m.Labels, p.Label) == classIndex).ToList();
        }
        if (classRows.Count == 0)
            throw new ApiException(400, "no_class_examples", $"no row of dataset '{d.Name}' is {(from == "predicted" ? "predicted as" : "labelled")} '{m.Labels[classIndex]}'; TCAV scores a class on its examples.");
        var classExamples = Sample(classRows, s.Options.MaxTcavClassExamples, seed).Select(p => p.Text).ToList();
        var pool = rows.Select(p => p.Text).ToList();

        string conceptName = string.IsNullOrWhiteSpace(req.ConceptName) ? "concept" : req.ConceptName.Trim();
        string? negativeName = negative is null ? null : string.IsNullOrWhiteSpace(req.NegativeName) ? "negative concept" : req.NegativeName.Trim();
        var conceptTexts = concept.Select(p => p.Text).ToList();
        var negativeTexts = negative?.Select(p => p.Text).ToList();
        var options = new TcavOptions { Layer = layers[0], Pooling = pooling, Runs = runs, Alpha = alpha, Seed = seed, MinConceptExamples = MinConceptExamples };
        var results = new List<TcavLayerResult>(layers.Count);
        foreach (var layer in layers)
        {
            ct.ThrowIfCancellationRequested();
            var o = options with { Layer = layer };
            var r = (TcavResult)await s.Run(m, () => Cancellable(m, ct, () => negativeTexts is null
                ? tcav.Run(conceptName, conceptTexts, pool, classExamples, classIndex, o)
                : tcav.RunRelative(conceptName, conceptTexts, negativeName!, negativeTexts, pool, classExamples, classIndex, o)), ct);
            results.Add(new TcavLayerResult(r.Layer, r.Score, r.ScoreStd, r.RunScores, r.RandomScores, r.RandomScores.Average(),
                Statistics.StandardDeviation(r.RandomScores), OrNull(r.PValue), r.Significant, r.CavAccuracy,
                ExplanationSummary.Describe(r), OrNull(r.ScorePValue), OrNull(r.CavPValue), OrNull(r.RandomCavAccuracy)));
        }
        return new TcavResponse(m.Name, d.Name, conceptName, negativeName, m.Labels[classIndex], classIndex, from, concept.Count, negative?.Count,
            classExamples.Count, pooling == Pooling.Mean ? "mean" : "cls", runs, seed, alpha, results, started.Elapsed.TotalSeconds);
    }

    private static async Task<HierarchyResponse> RunHierarchy(ConceptServices s, HierarchyRequest req, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var m = s.Model(req.Model);
        if (Modules(m)?.Hierarchy is null)
            throw new ApiException(400, "not_supported", $"the phrase tree explains single-label classifiers; model '{m.Name}' is {m.Task}. See /api/info for the modules each model has.");
        var d = req.Input ?? throw new ApiException(400, "missing_field", "'input' is missing; send {model, input:{text}, method: soc|agglomerative}.");
        if (d.Text is null) throw new ApiException(400, "missing_field", "input: 'text' is missing.");
        m.CheckInput(d, s.Options.MaxTextChars, "input");
        if (!string.IsNullOrEmpty(d.Pair))
            throw new ApiException(400, "not_supported", "the phrase tree explains single texts; remove 'pair'.");
        string method = req.Method ?? "soc";
        if (!HierarchyMethods.Contains(method))
            throw new ApiException(400, "unknown_method", $"unknown hierarchy method '{method}'; available: {string.Join(", ", HierarchyMethods)}.");
        int? target = ClassIndex(m, req.ClassName, required: false);
        int samples = req.Samples ?? 20, radius = req.Radius ?? 10;
        if (samples < 1 || samples > s.Options.MaxHierarchySamples)
            throw new ApiException(400, "bad_input", $"samples must be between 1 and {s.Options.MaxHierarchySamples}, not {samples}.");
        if (radius < 0 || radius > 64) throw new ApiException(400, "bad_input", $"radius must be between 0 and 64, not {radius}.");
        var encoding = m.Tokenizer.Encode(d.Text);
        int words = encoding.WordIds.ToArray().Where((w, i) => w is not null && encoding.SpecialTokensMask[i] == 0).Distinct().Count();
        if (words > s.Options.MaxHierarchyWords)
            throw new ApiException(413, "text_too_long", $"the text has {words} words; the phrase tree is limited to {s.Options.MaxHierarchyWords} (its cost grows with the words × samples).");
        if (words == 0) throw new ApiException(400, "bad_input", "the text has no words to explain after tokenization.");

        var options = Options(m, method, samples, radius, req.Seed ?? 0);
        var e = (HierarchicalExplanation)await s.Run(m, () => Cancellable(m, ct, () => Explainer(m).Explain(d.Text, target, options)), ct);
        return new HierarchyResponse(m.Name, e.Text, e.Labels, e.TargetIndex, e.TargetName, e.InputScore, e.Words, method,
            e.Scoring == PhraseScoring.Soc ? "soc" : "occlusion", Node(e.Root), ExplanationSummary.Describe(e), e.Parameters, started.Elapsed.TotalSeconds);
    }

    /// <summary>The hierarchical explainer the endpoint uses: the model's class probabilities, pad token as the occlusion baseline.</summary>
    internal static HierarchicalExplainer Explainer(ModelHost m) =>
        new(new TransformerExplainable(m.Model, m.Name, m.Labels), m.Tokenizer);

    /// <summary>The options the endpoint passes for a method, sample count, radius and seed.</summary>
    internal static HierarchicalOptions Options(ModelHost m, string method, int samples, int radius, int seed) => new()
    {
        Scoring = method == "soc" ? PhraseScoring.Soc : PhraseScoring.Occlusion,
        Samples = samples,
        Radius = radius,
        Seed = seed,
        // The pad token as the CLI's --hierarchical uses it (tokenizer_config.json first).
        BaselineId = new SequenceClassificationExplainer(m.Model, m.Tokenizer, m.Folder).SpecialTokens.Pad,
    };

    private static HierarchyNode Node(PhraseNode n) =>
        new(n.Start, n.End, n.Text, Finite(n.Score), Finite(n.Interaction), n.Children.Select(Node).ToArray());

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    private static double? OrNull(double v) => double.IsFinite(v) ? v : null;

    /// <summary>Runs <paramref name="work"/> with a hook on the embeddings that stops it at the next forward pass once the client is gone.</summary>
    private static object Cancellable(ModelHost m, CancellationToken ct, Func<object> work)
    {
        ct.ThrowIfCancellationRequested();
        using (m.Model.Hooks.Replace("hook_embed", (_, x) => { ct.ThrowIfCancellationRequested(); return x; }))
            return work();
    }

    private static int? ClassIndex(ModelHost m, string? name, bool required)
    {
        if (string.IsNullOrEmpty(name))
            return required ? throw new ApiException(400, "missing_field", $"'class' is missing; model '{m.Name}''s classes are: {string.Join(", ", m.Labels)}.") : null;
        for (int i = 0; i < m.Labels.Count; i++) if (m.Labels[i] == name) return i;
        throw new ApiException(400, "unknown_class", $"class '{name}' is not one of model '{m.Name}''s labels: {string.Join(", ", m.Labels)}.");
    }

    private static List<string> Distinct(IReadOnlyList<string>? ids, string field)
    {
        if (ids is null) throw new ApiException(400, "missing_field", $"'{field}' is missing; send the ids of the concept's rows (at least {MinConceptExamples}).");
        if (ids.Any(string.IsNullOrEmpty)) throw new ApiException(400, "bad_input", $"'{field}' contains an empty id.");
        return ids.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>At most <paramref name="n"/> rows, a seeded sample in dataset order when there are more.</summary>
    private static List<Datapoint> Sample(List<Datapoint> rows, int n, int seed)
    {
        if (rows.Count <= n) return rows;
        var rng = new Random(seed);
        var keep = Enumerable.Range(0, rows.Count).OrderBy(_ => rng.Next()).Take(n).Order().ToArray();
        return keep.Select(i => rows[i]).ToList();
    }

    // A phrase tree over n words can be n − 1 levels deep (two JSON levels each): beyond the default depth of 64.
    private static readonly System.Text.Json.JsonSerializerOptions s_deepJson = new(GlassboxServer.Json) { MaxDepth = 1024 };

    private static RequestDelegate Handle<T>(Func<HttpContext, Task<T>> handler, System.Text.Json.JsonSerializerOptions json) => async c =>
    {
        var result = await handler(c);
        await c.Response.WriteAsJsonAsync(result, json, c.RequestAborted);
    };

    private static async Task<T> Body<T>(HttpContext c) where T : class
    {
        if (c.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, "unsupported_media_type", $"send the body as application/json, not {type}.");
        T? body;
        try { body = await System.Text.Json.JsonSerializer.DeserializeAsync<T>(c.Request.Body, GlassboxServer.Json, c.RequestAborted); }
        catch (System.Text.Json.JsonException e) { throw new ApiException(400, "malformed_json", $"the request body is not valid JSON for {c.Request.Path}: {e.Message}"); }
        return body ?? throw new ApiException(400, "malformed_json", $"the request body of {c.Request.Path} is empty or null; send a JSON object.");
    }
}
