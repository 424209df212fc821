// Model comparison, as LIT's "compare models" mode: two or more classifiers with the same labels,
// run on the same examples of one dataset, and their metrics paired.
//
//   POST /api/compare   {models:[a, b, ...], dataset, ids?, facet?: label|agreement}
//
// For every slice (the whole selection, then one per gold label or agreement/disagreement) it
// returns each model's accuracy and macro F1 on exactly the same examples, and for every pair of
// models their agreement rate, Cohen's kappa, McNemar's 2×2 table of paired correctness (with the
// ids of the discordant examples, so the app can show them) and the exact McNemar p-value.
// Predictions go through the server's cached, bounded prediction path; the request itself is
// bounded (at most MaxModels models) and every refusal is a JSON error saying what to change.
using System.Text.Json;
using Glassbox.Explain.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Glassbox.Server;

public sealed record CompareRequest
{
    /// <summary>The models to compare (two or more, same task and labels); the first is the reference of each pair.</summary>
    public IReadOnlyList<string>? Models { get; init; }
    public string? Dataset { get; init; }
    /// <summary>Examples to compare on (all of the dataset when null).</summary>
    public IReadOnlyList<string>? Ids { get; init; }
    /// <summary>"label" (one slice per gold label), "agreement" (examples where all models agree / where they disagree), or null.</summary>
    public string? Facet { get; init; }
}

/// <summary>One model's scores on a slice.</summary>
public sealed record ModelSliceScores(string Model, double Accuracy, double MacroF1);

/// <summary>Two models on the same examples of a slice: agreement, Cohen's kappa (null when undefined),
/// McNemar's table of paired correctness with the discordant ids, and the exact two-sided p-value.</summary>
public sealed record PairSliceScores(string First, string Second, double Agreement, double? Kappa,
    int BothCorrect, int OnlyFirstCorrect, int OnlySecondCorrect, int BothWrong, double McNemarPValue,
    IReadOnlyList<string> OnlyFirstCorrectIds, IReadOnlyList<string> OnlySecondCorrectIds);

public sealed record CompareSlice(string Slice, int Count, IReadOnlyList<string> Ids, IReadOnlyList<ModelSliceScores> Models,
    IReadOnlyList<PairSliceScores> Pairs, string? Note);

/// <summary>Disagreements lists the ids (of the examples with a gold label) where the models do not all predict the same class.</summary>
public sealed record CompareResponse(IReadOnlyList<string> Models, string Dataset, IReadOnlyList<string> Labels, int Skipped,
    IReadOnlyList<string> Disagreements, IReadOnlyList<CompareSlice> Slices);

internal static class CompareEndpoints
{
    /// <summary>Most models in one comparison (pairs grow as n²).</summary>
    public const int MaxModels = 8;

    /// <summary>Predictions of a model for a dataset selection (the server's cached, bounded path).</summary>
    public delegate Task<(IReadOnlyList<Datapoint> Points, Prediction[] Predictions)> PredictSelection(
        ModelHost model, string? dataset, IReadOnlyList<string>? ids, CancellationToken ct);

    public static void MapCompare(this WebApplication app, IReadOnlyDictionary<string, ModelHost> models, DatasetStore data, PredictSelection predict)
    {
        app.MapPost("/api/compare", async (HttpContext c) =>
        {
            var req = await Body(c);
            var result = await Compare(req, models, data, predict, c.RequestAborted);
            await c.Response.WriteAsJsonAsync(result, GlassboxServer.Json, c.RequestAborted);
        });
    }

    private static async Task<CompareRequest> Body(HttpContext c)
    {
        if (c.Request.ContentType is { } ct && !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, "unsupported_media_type", $"send the body as application/json, not {ct}.");
        try
        {
            return await JsonSerializer.DeserializeAsync<CompareRequest>(c.Request.Body, GlassboxServer.Json, c.RequestAborted)
                ?? throw new ApiException(400, "malformed_json", "the request body of /api/compare is null; send {models:[a, b], dataset}.");
        }
        catch (JsonException e) { throw new ApiException(400, "malformed_json", $"the request body is not valid JSON for /api/compare: {e.Message}"); }
    }

    /// <summary>The models of a request, checked: known, distinct, at least two, at most MaxModels, same task and labels, classification.</summary>
    internal static IReadOnlyList<ModelHost> CheckModels(IReadOnlyList<string>? names, IReadOnlyDictionary<string, ModelHost> models)
    {
        string served = string.Join(", ", models.Keys);
        if (names is not { Count: > 0 }) throw new ApiException(400, "missing_field", $"'models' is missing; send {{models:[a, b], dataset}} with two or more of: {served}.");
        if (names.Count > MaxModels) throw new ApiException(400, "too_many_models", $"{names.Count} models in one comparison; at most {MaxModels}.");
        var unknown = names.Where(n => n is null || !models.ContainsKey(n)).ToArray();
        if (unknown.Length > 0)
            throw new ApiException(404, "unknown_model", $"unknown model{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(n => $"'{n}'"))}; served models: {served}.");
        var dup = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ApiException(400, "bad_input", $"model '{dup.Key}' is named twice; compare distinct models.");
        if (names.Count < 2) throw new ApiException(400, "bad_input", $"a comparison needs two or more models; only '{names[0]}' was given (served: {served}).");
        var hosts = names.Select(n => models[n]).ToArray();
        var first = hosts[0];
        foreach (var m in hosts.Skip(1))
        {
            if (m.Task != first.Task)
                throw new ApiException(400, "incompatible_models", $"models '{first.Name}' ({first.Task}) and '{m.Name}' ({m.Task}) have different tasks; compare models of the same task and labels.");
            if (!m.Labels.SequenceEqual(first.Labels, StringComparer.Ordinal))
                throw new ApiException(400, "incompatible_models",
                    $"models '{first.Name}' (labels {string.Join(", ", first.Labels)}) and '{m.Name}' (labels {string.Join(", ", m.Labels)}) have different labels; paired metrics need the same labels in the same order.");
        }
        if (first.Task != ServedTasks.Classification)
            throw new ApiException(400, "not_supported", $"paired metrics cover classification models; '{first.Name}' and the others are {first.Task}. The predictions and salience modules still show them side by side.");
        return hosts;
    }

    /// <summary>A dataset fits every model when it has each field some model requires.</summary>
    private static void CheckDataset(ServedDataset d, IReadOnlyList<ModelHost> hosts)
    {
        foreach (var m in hosts)
        {
            var missing = m.InputSpec.Where(kv => kv.Value.Required && !(kv.Key == "text" || (kv.Key == "pair" && d.HasPair))).Select(kv => kv.Key).ToArray();
            if (missing.Length > 0)
                throw new ApiException(400, "incompatible_dataset", $"dataset '{d.Name}' has no '{string.Join("', '", missing)}' field, which model '{m.Name}' needs; /api/info lists the compatible models of each dataset.");
        }
    }

    private static async Task<CompareResponse> Compare(CompareRequest req, IReadOnlyDictionary<string, ModelHost> models, DatasetStore data,
        PredictSelection predict, CancellationToken ct)
    {
        var hosts = CheckModels(req.Models, models);
        var dataset = data.Get(req.Dataset);
        CheckDataset(dataset, hosts);
        string facet = req.Facet ?? "";
        if (facet is not ("" or "none" or "label" or "agreement"))
            throw new ApiException(400, "bad_input", $"unknown facet '{facet}'; use label or agreement (or leave it out).");

        // One model at a time: each goes through the work limits, and cached rows cost nothing.
        var predictions = new Prediction[hosts.Count][];
        IReadOnlyList<Datapoint> points = [];
        for (int k = 0; k < hosts.Count; k++)
        {
            (points, predictions[k]) = await predict(hosts[k], dataset.Name, req.Ids, ct);
        }
        var labels = hosts[0].Labels;
        var keep = new List<int>();
        for (int i = 0; i < points.Count; i++) if (ModelAnalysis.GoldIndex(labels, points[i].Label) is not null) keep.Add(i);
        if (keep.Count == 0)
            throw new ApiException(400, "no_gold_labels", $"no example of dataset '{dataset.Name}' has a gold label the models understand (their labels: {string.Join(", ", labels)}, or their indices).");
        string[] ids = keep.Select(i => points[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        int[] gold = keep.Select(i => ModelAnalysis.GoldIndex(labels, points[i].Label)!.Value).ToArray();
        int[][] predicted = predictions.Select(p => keep.Select(i => p[i].LabelIndex ?? 0).ToArray()).ToArray();

        var agree = Enumerable.Range(0, keep.Count).Where(i => predicted.All(p => p[i] == predicted[0][i])).ToArray();
        var disagree = Enumerable.Range(0, keep.Count).Except(agree).ToArray();
        var slices = new List<Slice> { Slices.All(keep.Count) };
        if (facet == "label") slices.AddRange(Slices.ByGold(gold, labels));
        if (facet == "agreement") slices.AddRange([new Slice("models agree", agree), new Slice("models disagree", disagree)]);

        var result = slices.Select(s => SliceScores(s, ids, gold, predicted, hosts, labels)).ToArray();
        return new CompareResponse(hosts.Select(h => h.Name).ToArray(), dataset.Name, labels, points.Count - keep.Count,
            disagree.Select(i => ids[i]).ToArray(), result);
    }

    private static CompareSlice SliceScores(Slice s, string[] ids, int[] gold, int[][] predicted, IReadOnlyList<ModelHost> hosts, IReadOnlyList<string> labels)
    {
        var sliceIds = s.Indices.Select(i => ids[i]).ToArray();
        if (s.Count == 0) return new CompareSlice(s.Name, 0, sliceIds, [], [], "empty slice");
        int[] g = s.Indices.Select(i => gold[i]).ToArray();
        int[][] p = predicted.Select(pm => s.Indices.Select(i => pm[i]).ToArray()).ToArray();
        var scores = hosts.Select((h, k) =>
        {
            var r = ClassificationMetrics.Compute(g, p[k], null, labels);
            return new ModelSliceScores(h.Name, r.Accuracy, r.Macro.F1);
        }).ToArray();
        var pairs = new List<PairSliceScores>();
        for (int a = 0; a < hosts.Count; a++)
            for (int b = a + 1; b < hosts.Count; b++)
            {
                var c = PairedMetrics.Compare(g, p[a], p[b], labels.Count);
                var onlyA = Enumerable.Range(0, g.Length).Where(i => p[a][i] == g[i] && p[b][i] != g[i]).Select(i => sliceIds[i]).ToArray();
                var onlyB = Enumerable.Range(0, g.Length).Where(i => p[b][i] == g[i] && p[a][i] != g[i]).Select(i => sliceIds[i]).ToArray();
                pairs.Add(new PairSliceScores(hosts[a].Name, hosts[b].Name, c.Agreement, double.IsNaN(c.CohenKappa) ? null : c.CohenKappa,
                    c.McNemar.BothCorrect, c.McNemar.OnlyFirstCorrect, c.McNemar.OnlySecondCorrect, c.McNemar.BothWrong, c.McNemar.PValue, onlyA, onlyB));
            }
        return new CompareSlice(s.Name, s.Count, sliceIds, scores, pairs, null);
    }
}
