// TracIn (Pruthi et al. 2020, TracInCP): the influence of a training example z on a test example
// z' is the sum over saved checkpoints θ_i of
//     lr_i · ∇_θ loss(z; θ_i) · ∇_θ loss(z'; θ_i)
// where lr_i is the learning rate in effect over the interval the checkpoint closes. A positive
// score (a proponent) means a gradient step on z lowers the test loss: helpful. The full variant
// takes gradients with respect to every parameter (or those matching ParameterPattern) through the
// autograd tape, one example at a time, and streams the training gradients (only the test
// gradients are kept); the last-layer variant uses the classifier head's closed-form gradient
// (p − e_y) ⊗ [h, 1], which needs one forward pass per example and no backward pass.
using System.Text.RegularExpressions;
using Glassbox.Models;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Explain.TrainingData;

/// <summary>A saved checkpoint and the learning rate over the training interval it ends.</summary>
public sealed record TracInCheckpoint(IExplainableModel Model, double LearningRate)
{
    /// <summary>A Hugging Face model folder (e.g. one epoch of `glassbox train classifier --save-every-epoch`).</summary>
    public static TracInCheckpoint FromFolder(string folder, double learningRate)
    {
        var model = AutoModel.FromPretrained(folder);
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        return new TracInCheckpoint(new TransformerExplainable(model, folder, config.Id2Label), learningRate);
    }

    /// <summary>Every per-epoch checkpoint of a `glassbox train classifier --save-every-epoch` run: the output
    /// folder's training.json lists, per epoch, the checkpoint folder and the mean learning rate over that epoch
    /// (the rate used as lr_i; with a constant number of steps per epoch this keeps TracInCP's relative weights).</summary>
    public static IReadOnlyList<TracInCheckpoint> FromTrainingRun(string runFolder)
    {
        ArgumentNullException.ThrowIfNull(runFolder);
        string card = Path.Combine(runFolder, "training.json");
        if (!File.Exists(card))
            throw new FileNotFoundException($"TracIn: {runFolder} has no training.json; give the output folder of `glassbox train classifier --save-every-epoch`, or list checkpoint folders with their learning rates.", card);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(card));
        if (!doc.RootElement.TryGetProperty("history", out var history) || history.ValueKind != System.Text.Json.JsonValueKind.Array)
            throw new FormatException($"TracIn: {card} has no \"history\" array of epochs.");
        var result = new List<TracInCheckpoint>();
        foreach (var e in history.EnumerateArray())
        {
            if (!e.TryGetProperty("checkpoint", out var c) || c.GetString() is not { Length: > 0 } rel) continue;
            if (!e.TryGetProperty("meanLearningRate", out var lr) || !lr.TryGetDouble(out double rate))
                throw new FormatException($"TracIn: an epoch in {card} names checkpoint '{rel}' but no meanLearningRate.");
            string dir = Path.GetFullPath(Path.Combine(runFolder, rel));
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"TracIn: checkpoint folder {dir} listed in {card} does not exist.");
            result.Add(FromFolder(dir, rate));
        }
        if (result.Count == 0)
            throw new ArgumentException($"TracIn: {card} lists no per-epoch checkpoints; train with --save-every-epoch.", nameof(runFolder));
        return result;
    }
}

public enum TracInVariant { FullGradient, LastLayer }

public sealed class TracInOptions
{
    public TracInVariant Variant { get; init; } = TracInVariant.LastLayer;
    /// <summary>Full variant: a regex over parameter names selecting the parameters differentiated (null = all).</summary>
    public string? ParameterPattern { get; init; }
    /// <summary>Helpful and harmful examples returned.</summary>
    public int TopK { get; init; } = 10;
}

/// <summary>TracInCP over saved checkpoints.</summary>
public static class TracIn
{
    /// <summary>Scores [tests][train] (positive = helpful).</summary>
    public static double[][] Scores(IReadOnlyList<TracInCheckpoint> checkpoints, IReadOnlyList<EncodedExample> train, IReadOnlyList<EncodedExample> tests, TracInOptions? options = null)
    {
        options ??= new TracInOptions();
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(tests);
        if (checkpoints.Count == 0) throw new ArgumentException("TracIn needs at least one checkpoint (a model folder or model with its learning rate).", nameof(checkpoints));
        TrainingChecks.Examples(train, "TracIn");
        if (tests.Count == 0) throw new ArgumentException("TracIn: no test examples given.", nameof(tests));
        foreach (var c in checkpoints)
            if (!double.IsFinite(c.LearningRate) || c.LearningRate <= 0)
                throw new ArgumentOutOfRangeException(nameof(checkpoints), $"TracIn: checkpoint '{c.Model?.Name}' has learning rate {c.LearningRate}; give the positive rate used over its interval.");
        if (options.TopK < 1) throw new ArgumentOutOfRangeException(nameof(options), $"TopK must be ≥ 1, got {options.TopK}.");
        var scores = tests.Select(_ => new double[train.Count]).ToArray();
        foreach (var ckpt in checkpoints)
        {
            if (options.Variant == TracInVariant.LastLayer) LastLayer(ckpt, train, tests, scores);
            else Full(ckpt, train, tests, scores, options.ParameterPattern);
        }
        return scores;
    }

    /// <summary>The most helpful and harmful training examples for one test example (label: given, else the last checkpoint's prediction).</summary>
    public static TrainingAttribution Explain(IReadOnlyList<TracInCheckpoint> checkpoints, IReadOnlyList<EncodedExample> train, EncodedExample test, TracInOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        options ??= new TracInOptions();
        ArgumentNullException.ThrowIfNull(checkpoints);
        if (checkpoints.Count == 0) throw new ArgumentException("TracIn needs at least one checkpoint (a model folder or model with its learning rate).", nameof(checkpoints));
        int label = test.Label ?? TextLabel(checkpoints[^1].Model, test);
        var labelled = test with { Label = label };
        var scores = Scores(checkpoints, train, [labelled], options)[0];
        return TrainingAttribution.Rank(options.Variant == TracInVariant.LastLayer ? "tracin-last-layer" : "tracin", test, label, train, scores, options.TopK, new()
        {
            ["checkpoints"] = string.Join(", ", checkpoints.Select(c => $"{c.Model.Name} (lr {c.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})")),
            ["variant"] = options.Variant == TracInVariant.LastLayer ? "last-layer" : "full-gradient",
            ["parameterPattern"] = options.ParameterPattern ?? "",
            ["score"] = "sum_i lr_i grad L(train; theta_i) . grad L(test; theta_i); positive = helpful",
        });
    }

    private static int TextLabel(IExplainableModel model, EncodedExample test) =>
        InfluenceArgMax(TrainingChecks.Probabilities(model, test));

    private static int InfluenceArgMax(float[] p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    private static void LastLayer(TracInCheckpoint ckpt, IReadOnlyList<EncodedExample> train, IReadOnlyList<EncodedExample> tests, double[][] scores)
    {
        var head = ClassifierHead.Of(ckpt.Model);
        var trainF = head.Features(train);
        var testF = head.Features(tests);
        head.Verify(ckpt.Model, train, trainF);
        var testG = tests.Select((t, q) => { TrainingChecks.Label(ckpt.Model, t.Label!.Value, head.Classes, t.Id); return head.LossGradient(testF[q], t.Label!.Value); }).ToArray();
        for (int j = 0; j < train.Count; j++)
        {
            TrainingChecks.Label(ckpt.Model, train[j].Label!.Value, head.Classes, train[j].Id);
            var g = head.LossGradient(trainF[j], train[j].Label!.Value);
            for (int q = 0; q < tests.Count; q++) scores[q][j] += ckpt.LearningRate * Dot(g, testG[q]);
        }
    }

    private static void Full(TracInCheckpoint ckpt, IReadOnlyList<EncodedExample> train, IReadOnlyList<EncodedExample> tests, double[][] scores, string? pattern)
    {
        var all = TrainingChecks.Parameters(ckpt.Model, "TracIn");
        var re = pattern is null ? null : new Regex(pattern, RegexOptions.CultureInvariant);
        var selected = all.Where(p => re is null || re.IsMatch(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToArray();
        if (selected.Length == 0)
            throw new ArgumentException($"TracIn: no parameter of '{ckpt.Model.Name}' matches '{pattern}'; names look like {string.Join(", ", all.Keys.Take(3))}.");
        var testG = tests.Select(t => Gradient(ckpt.Model, selected, t)).ToArray();
        foreach (var (j, e) in train.Select((e, j) => (j, e)))
        {
            var g = Gradient(ckpt.Model, selected, e);
            for (int q = 0; q < tests.Count; q++) scores[q][j] += ckpt.LearningRate * Dot(g, testG[q]);
        }
    }

    /// <summary>∇ of −log p(label) with respect to the parameters, flattened in order.</summary>
    internal static float[] Gradient(IExplainableModel model, IReadOnlyList<Tensor> parameters, EncodedExample e)
    {
        using var tape = Tape.Record();
        tape.Watch(parameters);
        var p = model.Predict(e.Input());
        TrainingChecks.Label(model, e.Label!.Value, p.Shape[^1], e.Id);
        var grads = tape.Gradient(TrainingChecks.Loss(p, e.Label!.Value), parameters);
        var flat = new float[grads.Sum(g => g.Length)];
        int offset = 0;
        foreach (var g in grads)
        {
            g.Span.CopyTo(flat.AsSpan(offset));
            offset += g.Length;
            g.Dispose();
        }
        return flat;
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
