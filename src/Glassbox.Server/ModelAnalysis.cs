// Dataset-level views of a served model, built on the analysis libraries: metrics per slice
// (Glassbox.Explain.Metrics), embeddings projected to 2-D/3-D (Glassbox.Explain.Projections) and
// counterfactual generators (Glassbox.Explain.Counterfactuals). Each is listed in /api/info only
// for the tasks it applies to.
using Glassbox.Explain;
using Glassbox.Explain.Counterfactuals;
using Glassbox.Explain.Extensions;
using Glassbox.Explain.Metrics;
using Glassbox.Explain.Projections;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Server;

public sealed record MetricsRequest
{
    public string? Model { get; init; }
    public string? Dataset { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    /// <summary>Facet: "label" (gold), "predicted", "correctness", "length" (words of the text) or
    /// "field:NAME" (an extra column of the dataset file); null = the whole selection only.</summary>
    public string? Facet { get; init; }
    /// <summary>Numeric facets: "quantile" (default; pandas.qcut) or "equal-width" (numpy.histogram).</summary>
    public string? Binning { get; init; }
    /// <summary>Numeric facets: number of bins, 1 to 20 (default 4).</summary>
    public int? Bins { get; init; }
}

public sealed record SliceMetrics(string Slice, int Count, IReadOnlyList<string> Ids, double? Accuracy, double? MacroF1, int[][]? ConfusionMatrix,
    IReadOnlyList<ClassScores>? PerClass, double? RocAuc, RegressionReport? Regression, string? Note);

public sealed record MetricsResponse(string Model, string Dataset, IReadOnlyList<string> Labels, int Skipped, IReadOnlyList<SliceMetrics> Slices);

public sealed record ProjectRequest
{
    public string? Model { get; init; }
    public string? Dataset { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    public string? Method { get; init; }
    public int? Dimensions { get; init; }
}

public sealed record ProjectResponse(string Model, string Method, int Dimensions, IReadOnlyList<string> Ids, double[][] Points, double[]? ExplainedVarianceRatio, string Embedding);

public sealed record GenerateRequest
{
    public string? Model { get; init; }
    public string? Generator { get; init; }
    public Datapoint? Input { get; init; }
    /// <summary>Word replacer rules, "old -> new1|new2, other -> x".</summary>
    public string? Rules { get; init; }
    public int? Count { get; init; }
    public int? Seed { get; init; }
}

public sealed record GeneratedDatapoint(string Text, string Generator, IReadOnlyList<CounterfactualEdit> Edits, string? PredictedLabel, double? Probability,
    bool? Flipped, IReadOnlyDictionary<string, string> Parameters);

public sealed record GenerateResponse(string Model, string Generator, IReadOnlyList<GeneratedDatapoint> Counterfactuals);

internal static class ModelAnalysis
{
    public static IReadOnlyList<string> Metrics(ModelHost m) => m.Task switch
    {
        ServedTasks.Classification => ["accuracy", "precision", "recall", "f1", "confusion-matrix", "roc-auc"],
        ServedTasks.Regression => ["mse", "mae", "pearson", "spearman"],
        _ => [],
    };

    public static IReadOnlyList<string> Projections(ModelHost m) => !m.IsNative
        ? (m.Spec!.OutputOf(FieldType.EmbeddingsType) is null ? [] : ["pca", "umap"])
        : m.Task is ServedTasks.Generation ? [] : ["pca", "umap"];

    /// <summary>Counterfactual generators: HotFlip needs gradients, ablation-flip token ids (native models and black boxes with a tokenizer).</summary>
    public static IReadOnlyList<string> Generators(ModelHost m) => m.Task != ServedTasks.Classification ? []
        : m.IsNative ? [WordReplacer.Name, Scrambler.Name, HotFlip.Name, AblationFlip.Name]
        : m.Custom is TokenizedTextModel ? [WordReplacer.Name, Scrambler.Name, AblationFlip.Name]
        : [WordReplacer.Name, Scrambler.Name];

    /// <summary>Gold class index: the label's name, or its index as text (SST-2 writes 0/1).</summary>
    public static int? GoldIndex(IReadOnlyList<string> labels, string? gold)
    {
        if (string.IsNullOrEmpty(gold)) return null;
        for (int i = 0; i < labels.Count; i++) if (labels[i] == gold) return i;
        return int.TryParse(gold, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int k) && k >= 0 && k < labels.Count ? k : null;
    }

    public static MetricsResponse ComputeMetrics(ModelHost m, string dataset, IReadOnlyList<Datapoint> points, IReadOnlyList<Prediction> predictions, string? facet) =>
        ComputeMetrics(m, dataset, points, predictions, new MetricsRequest { Facet = facet }, new Dictionary<string, FieldSpec>());

    /// <summary>Metrics of the whole selection, then of each slice of the request's facet: label,
    /// predicted, correctness (classification), length or field:NAME (numeric fields binned by
    /// Binning into Bins; categorical fields one slice per value). spec is the dataset's field spec.</summary>
    public static MetricsResponse ComputeMetrics(ModelHost m, string dataset, IReadOnlyList<Datapoint> points, IReadOnlyList<Prediction> predictions,
        MetricsRequest req, IReadOnlyDictionary<string, FieldSpec> spec)
    {
        string? facet = req.Facet;
        if (m.Task is not (ServedTasks.Classification or ServedTasks.Regression))
            throw new ApiException(400, "no_metrics", $"model '{m.Name}' ({m.Task}) has no metrics in the app; /api/info lists the metrics per model.");
        var keep = new List<int>();
        int skipped = 0;
        for (int i = 0; i < points.Count; i++)
        {
            bool ok = m.Task == ServedTasks.Classification ? GoldIndex(m.Labels, points[i].Label) is not null
                : double.TryParse(points[i].Label, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
            if (ok) keep.Add(i); else skipped++;
        }
        if (keep.Count == 0)
            throw new ApiException(400, "no_gold_labels", $"no example of dataset '{dataset}' has a gold label model '{m.Name}' understands (its labels: {string.Join(", ", m.Labels)}, or their indices).");
        var ids = keep.Select(i => points[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (m.Task == ServedTasks.Regression)
        {
            double[] gold = keep.Select(i => double.Parse(points[i].Label!, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            double[] pred = keep.Select(i => predictions[i].Value ?? double.NaN).ToArray();
            var slices = new List<Slice> { Slices.All(keep.Count) };
            switch (facet)
            {
                case null or "" or "none": break;
                case "label" or "predicted" or "correctness":
                    throw new ApiException(400, "bad_input", $"facet '{facet}' needs class labels; for regression use length or field:NAME.");
                default: slices.AddRange(DatasetFields.Facet(facet, keep.Select(i => points[i]).ToArray(), spec, req.Binning, req.Bins)); break;
            }
            var results = Slices.RegressionBySlice(slices, gold, pred);
            return new MetricsResponse(m.Name, dataset, m.Labels, skipped, results.Select(r => new SliceMetrics(r.Slice.Name, r.Slice.Count,
                r.Slice.Indices.Select(i => ids[i]).ToArray(), null, null, null, null, null, r.Metrics, r.Note)).ToArray());
        }
        int[] g = keep.Select(i => GoldIndex(m.Labels, points[i].Label)!.Value).ToArray();
        int[] p = keep.Select(i => predictions[i].LabelIndex ?? 0).ToArray();
        double[][] probs = keep.Select(i => predictions[i].Probabilities!.ToArray()).ToArray();
        var all = new List<Slice> { Slices.All(keep.Count) };
        switch (facet)
        {
            case null or "" or "none": break;
            case "label": all.AddRange(Slices.ByGold(g, m.Labels)); break;
            case "predicted": all.AddRange(Slices.ByPrediction(p, m.Labels)); break;
            case "correctness": all.AddRange(Slices.ByCorrectness(g, p)); break;
            default: all.AddRange(DatasetFields.Facet(facet, keep.Select(i => points[i]).ToArray(), spec, req.Binning, req.Bins)); break;
        }
        var reports = Slices.ClassificationBySlice(all, g, p, probs, m.Labels);
        return new MetricsResponse(m.Name, dataset, m.Labels, skipped, reports.Select(r => new SliceMetrics(r.Slice.Name, r.Slice.Count,
            r.Slice.Indices.Select(i => ids[i]).ToArray(), r.Metrics?.Accuracy, r.Metrics?.Macro.F1, r.Metrics?.ConfusionMatrix,
            r.Metrics?.PerClass, r.Metrics?.RocAuc, null, r.Note ?? r.Metrics?.AucNote)).ToArray());
    }

    /// <summary>The first token's vector leaving the last block (what a classification head reads; LIT's cls_emb). Call while holding Gate.</summary>
    public static double[] Embedding(ModelHost m, Datapoint d)
    {
        if (!m.IsNative) return m.CustomEmbedding(d);
        using var _ = Tape.NoGrad();
        var enc = m.Tokenizer.Encode(d.Text, string.IsNullOrEmpty(d.Pair) ? null : d.Pair, addSpecialTokens: true);
        var input = new ModelInput(1, enc.Length, enc.Ids, enc.AttentionMask, enc.TypeIds);
        string hook = $"blocks.{m.Model.LayerCount - 1}.hook_resid_post";
        lock (m.Model)
        {
            ActivationCache cache;
            using (m.Model.Hooks.Capture(hook, out cache)) m.Model.Forward(input);
            if (cache.Count == 0) throw new InvalidOperationException($"{m.Model.ArchitectureName} exposed no '{hook}'.");
            var t = cache.Values.First();
            int hidden = t.Shape[^1];
            return t.Span[..hidden].ToArray().Select(v => (double)v).ToArray();
        }
    }

    public static ProjectResponse Project(ModelHost m, IReadOnlyList<string> ids, double[][] embeddings, string method, int dims,
        IProgress<UmapProgress>? progress = null, CancellationToken ct = default)
    {
        if (method is not ("pca" or "umap")) throw new ApiException(400, "unknown_method", $"unknown projection '{method}'; available: {string.Join(", ", Projections(m))}.");
        if (dims is not (2 or 3)) throw new ApiException(400, "bad_input", $"dimensions must be 2 or 3, not {dims}.");
        string source = m.IsNative ? $"blocks.{m.Model.LayerCount - 1}.hook_resid_post, first token" : $"output '{m.Spec!.OutputOf(FieldType.EmbeddingsType)}'";
        if (method == "umap")
        {
            if (embeddings.Length < 4) throw new ApiException(400, "bad_input", $"UMAP needs at least 4 examples; the selection has {embeddings.Length}.");
            // umap-learn's defaults (15 neighbours, min_dist 0.1), seeded so a view can be shared.
            var u = Umap.Fit(embeddings, UmapSettings(embeddings.Length, dims), progress, ct);
            return new ProjectResponse(m.Name, method, dims, ids, u.Embedding, null, source);
        }
        if (embeddings.Length <= dims) throw new ApiException(400, "bad_input", $"PCA to {dims}-D needs more than {dims} examples; the selection has {embeddings.Length}.");
        var pca = Pca.Fit(embeddings, dims);
        return new ProjectResponse(m.Name, method, dims, ids, pca.Embedding, pca.ExplainedVarianceRatio, source);
    }

    /// <summary>The UMAP settings of the app: umap-learn's defaults (15 neighbours, min_dist 0.1), seed 0.</summary>
    public static UmapOptions UmapSettings(int count, int dims) => new(Neighbors: Math.Min(15, count - 1), Components: dims, Seed: 0);

    /// <summary>Runs a generator on one datapoint and predicts every counterfactual. Call while holding Gate.</summary>
    public static GenerateResponse Generate(ModelHost m, GenerateRequest req, Datapoint d)
    {
        var example = new TextExample(d.Id ?? "input", d.Text, GoldIndex(m.Labels, d.Label));
        int count = req.Count ?? 5;
        if (count < 1 || count > 50) throw new ApiException(400, "bad_input", $"count must be between 1 and 50, not {count}.");
        if (!Generators(m).Contains(req.Generator ?? ""))
            throw new ApiException(400, "unknown_generator", $"unknown generator '{req.Generator}' for model '{m.Name}'; available: {string.Join(", ", Generators(m))}.");
        // Black boxes: the token-level model when there is one (ablation-flip), else only the text generators.
        IExplainableModel explainable = m.IsNative ? new TransformerExplainable(m.Model, m.Name, m.Labels, OutputTransform.Softmax)
            : m.Custom is TokenizedTextModel tm ? tm.Model : null!;
        TextEncoder? encoder = m.HasTokenizer ? new TextEncoder(m.Tokenizer, m.MaxTokens) : null;
        IReadOnlyList<Counterfactual> generated;
        lock ((object?)(m.IsNative ? m.Model : null) ?? m)
        {
            generated = req.Generator switch
            {
                WordReplacer.Name => (string.IsNullOrWhiteSpace(req.Rules)
                    ? throw new ApiException(400, "missing_field", "the word replacer needs 'rules', e.g. \"great -> terrible|awful, good -> bad\".")
                    : ParseRules(req.Rules)).Generate(example),
                Scrambler.Name => new Scrambler(req.Seed ?? 0, count).Generate(example),
                HotFlip.Name => new HotFlip(explainable, encoder!, options: new HotFlipOptions { MaxCounterfactuals = count }).Generate(example),
                AblationFlip.Name => new AblationFlip(explainable, encoder!, new AblationFlipOptions { MaxCounterfactuals = count }).Generate(example),
                _ => throw new ApiException(400, "unknown_generator", $"unknown generator '{req.Generator}' for model '{m.Name}'; available: {string.Join(", ", Generators(m))}."),
            };
        }
        var original = m.Predict(d, 0);
        var kept = generated.Take(count).ToArray();
        var predicted = m.PredictBatch(kept.Select(c => new Datapoint { Text = c.Text }).ToArray());
        var result = new List<GeneratedDatapoint>();
        for (int i = 0; i < kept.Length; i++)
        {
            var (c, p) = (kept[i], predicted[i]);
            result.Add(new GeneratedDatapoint(c.Text, c.Generator, c.Edits, p.Label, p.LabelIndex is int k ? p.Probabilities![k] : null,
                p.LabelIndex != original.LabelIndex, c.Parameters));
        }
        return new GenerateResponse(m.Name, req.Generator!, result);
    }

    private static WordReplacer ParseRules(string rules)
    {
        try { return WordReplacer.Parse(rules); }
        catch (FormatException e) { throw new ApiException(400, "bad_input", $"cannot read the word replacer rules: {e.Message}"); }
    }
}
