// Evaluates attribution methods on a dataset of texts for a sequence classifier: every method
// explains every example (for the same target class), and each explanation gets the faithfulness
// metrics (Faithfulness.cs) and, when the example carries a human rationale, the plausibility
// metrics (Plausibility.cs) at the word level. A "random" ranking (uniform scores, seeded) is
// evaluated alongside as the baseline every method should beat.
//
// The perturbed inputs are the explainer's own input (same cleaning, special tokens, token types
// and positions), so the unperturbed score is exactly the probability the attributions explain.
// Leave-one-out importance is computed once per example and shared by all methods.
using Glassbox.Explain.Explainers;
using Glassbox.Models;

namespace Glassbox.Explain.Quality;

/// <summary>Which class the explanations and metrics are about.</summary>
public enum QualityTarget
{
    /// <summary>The model's predicted class (ERASER's choice: faithfulness to the prediction).</summary>
    Predicted,
    /// <summary>The example's gold label (examples without a label fall back to the prediction).</summary>
    Label,
}

/// <summary>One example: the text, optionally its gold label (class index) and a human rationale (one flag per whitespace word).</summary>
public sealed record EvaluationExample(string Text)
{
    public string? Id { get; init; }
    public int? Label { get; init; }
    public IReadOnlyList<bool>? Rationale { get; init; }
}

/// <summary>Settings of an evaluation.</summary>
public sealed record QualityOptions
{
    public FaithfulnessOptions Faithfulness { get; init; } = new();
    /// <summary>How removed tokens leave the input; deletion by default (ERASER).</summary>
    public RemovalMode Removal { get; init; } = RemovalMode.Delete;
    public QualityTarget Target { get; init; } = QualityTarget.Predicted;
    /// <summary>Size of the top-k discrete rationale for token and IOU F1; null = the mean human rationale length (rounded, at least 1).</summary>
    public int? RationaleTopK { get; init; }
    /// <summary>IOU needed for a predicted span to match a gold one (ERASER: 0.5).</summary>
    public double IouThreshold { get; init; } = 0.5;
    /// <summary>Also evaluate a random ranking as a baseline row.</summary>
    public bool IncludeRandomBaseline { get; init; } = true;
    /// <summary>Seed of the random baseline.</summary>
    public int Seed { get; init; }
    /// <summary>Perturbed inputs per forward pass.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Points of the mean curves (evenly spaced on [0, 1]).</summary>
    public int CurveGridPoints { get; init; } = 21;
}

public sealed class ExplanationEvaluator
{
    /// <summary>The name of the random-ranking baseline row.</summary>
    public const string RandomBaseline = "random";

    private readonly SequenceClassificationExplainer _explainer;

    public ExplanationEvaluator(SequenceClassificationExplainer explainer, QualityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        _explainer = explainer;
        Options = options ?? new QualityOptions();
    }

    public QualityOptions Options { get; }

    /// <summary>Runs every method on every example. explainerOptions sets steps, samples and seed (the Method field is
    /// replaced per method); log receives one line per example.</summary>
    public QualityReport Evaluate(IReadOnlyList<EvaluationExample> examples, IReadOnlyList<AttributionMethod> methods,
        ExplainerOptions? explainerOptions = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(examples); ArgumentNullException.ThrowIfNull(methods);
        if (examples.Count == 0) throw new ArgumentException("There are no examples to evaluate.");
        if (methods.Count == 0) throw new ArgumentException($"Give at least one attribution method; valid methods: {string.Join(", ", AttributionMethods.Names)}.");
        if (methods.Distinct().Count() != methods.Count) throw new ArgumentException("An attribution method is listed twice.");
        var o = Options;
        o.Faithfulness.Validate();
        if (!(o.IouThreshold > 0 && o.IouThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(Options), $"IouThreshold must be in (0, 1], got {o.IouThreshold}.");
        if (o.RationaleTopK is < 1) throw new ArgumentOutOfRangeException(nameof(Options), $"RationaleTopK must be at least 1, got {o.RationaleTopK}.");
        if (o.CurveGridPoints < 2) throw new ArgumentOutOfRangeException(nameof(Options), $"CurveGridPoints must be at least 2, got {o.CurveGridPoints}.");
        var eo = explainerOptions ?? _explainer.Options;
        var m = _explainer.Model;
        int replacement = o.Removal switch
        {
            RemovalMode.Mask => MaskId(),
            RemovalMode.Pad => m.Specials.Pad,
            _ => -1,
        };

        // Discrete rationales take the top k words; ERASER's k is the mean human rationale length.
        var withRationale = examples.Where(e => e.Rationale is { } r && r.Any(b => b)).ToList();
        int? topK = o.RationaleTopK ?? (withRationale.Count == 0 ? null : Math.Max(1, (int)Math.Round(withRationale.Average(e => e.Rationale!.Count(b => b)), MidpointRounding.AwayFromZero)));

        var names = methods.Select(AttributionMethods.Name).ToList();
        if (o.IncludeRandomBaseline) names.Add(RandomBaseline);
        var warnings = new List<string>();
        var results = new List<ExampleQuality>();
        for (int e = 0; e < examples.Count; e++)
        {
            var ex = examples[e];
            var prepared = Prepare(_explainer, ex.Text, eo);
            warnings.AddRange(prepared.X.Warnings.Select(w => $"example {ex.Id ?? (e + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {w}"));
            int target = o.Target == QualityTarget.Label && ex.Label is { } label ? label : prepared.Predicted;
            if (target < 0 || target >= prepared.Outputs && !prepared.SingleOutput)
                throw new ArgumentException($"Example {ex.Id ?? (e + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)} has label {target}, but the model has {prepared.Outputs} classes ({string.Join(", ", m.Labels)}).");
            int scoreColumn = prepared.SingleOutput ? 0 : target;
            var removal = new TokenRemoval(prepared.Scorer, prepared.Input, prepared.X.Special, scoreColumn, o.Removal, replacement, o.BatchSize);
            double[] loo;
            lock (Gate(m)) loo = Faithfulness.LeaveOneOut(removal.Scorer, prepared.X.Special);

            var words = HumanRationale.Words(ex.Text);
            bool[]? gold = null;
            if (ex.Rationale is { } r && r.Any(b => b))
            {
                if (r.Count != words.Count)
                    throw new ArgumentException($"Example {ex.Id ?? (e + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}: the rationale has {r.Count} entries but the text has {words.Count} words.");
                gold = [.. r];
            }

            var perMethod = new Dictionary<string, ExampleScores>();
            var rng = new Random(unchecked(o.Seed * 1_000_003 + e)); // deterministic across runs (HashCode is not)
            foreach (var name in names)
            {
                double[] attributions;
                if (name == RandomBaseline)
                    attributions = prepared.X.Special.Select(s => s ? 0.0 : rng.NextDouble()).ToArray();
                else
                {
                    var explanation = _explainer.Explain(ex.Text, index: target, options: eo with { Method = AttributionMethods.Parse(name) });
                    var tokens = explanation.Attribution.Tokens;
                    if (tokens.Count != prepared.X.Length || tokens.Where((t, i) => t.Id != prepared.X.Ids[i]).Any())
                        throw new InvalidOperationException($"The {name} explanation of example {e + 1} covers different tokens than the evaluated input.");
                    attributions = tokens.Select(t => t.Raw).ToArray();
                }
                FaithfulnessResult f;
                lock (Gate(m)) f = Faithfulness.Evaluate(removal.Scorer, attributions, prepared.X.Special, o.Faithfulness, loo);
                var metrics = new Dictionary<string, double>
                {
                    [QualityMetrics.Comprehensiveness] = f.Comprehensiveness,
                    [QualityMetrics.Sufficiency] = f.Sufficiency,
                    [QualityMetrics.Aopc] = f.Aopc,
                    [QualityMetrics.DeletionArea] = f.Deletion.Area,
                    [QualityMetrics.InsertionArea] = f.Insertion.Area,
                    [QualityMetrics.KendallTauLoo] = f.KendallTauLoo,
                    [QualityMetrics.TokenF1] = double.NaN,
                    [QualityMetrics.IouF1] = double.NaN,
                    [QualityMetrics.Auprc] = double.NaN,
                };
                double[]? wordScores = null;
                bool[]? predicted = null;
                if (gold is not null)
                {
                    var tokenSpans = Enumerable.Range(0, prepared.X.Length).Select(i => (prepared.X.Offsets[i].Start, !prepared.X.Special[i] && prepared.X.Sequence[i] == 0)).ToArray();
                    wordScores = HumanRationale.WordScores(words, tokenSpans, attributions);
                    predicted = Plausibility.TopK(wordScores, Math.Min(topK!.Value, words.Count));
                    metrics[QualityMetrics.TokenF1] = Plausibility.TokenF1(gold, predicted).F1;
                    metrics[QualityMetrics.IouF1] = Plausibility.IouF1(gold, predicted, o.IouThreshold).F1;
                    metrics[QualityMetrics.Auprc] = Plausibility.Auprc(gold, wordScores);
                }
                perMethod[name] = new ExampleScores { Metrics = metrics, Faithfulness = f, Attributions = attributions, WordScores = wordScores, PredictedRationale = predicted };
            }
            results.Add(new ExampleQuality
            {
                Id = ex.Id ?? (e + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Text = ex.Text, TargetIndex = target, TargetName = LabelName(m, target), PredictedIndex = prepared.Predicted, Label = ex.Label,
                Tokens = prepared.X.Tokens.Select((_, i) => prepared.X.DisplayToken(i)).ToArray(), HasRationale = gold is not null, Methods = perMethod,
            });
            log?.Invoke($"example {e + 1}/{examples.Count}: {prepared.X.Length} tokens, target {LabelName(m, target)}");
        }

        var summaries = names.Select(n => Summarise(n, results, examples, o, topK)).ToList();
        return new QualityReport
        {
            ModelName = m.Name, ModelPath = m.Path, ModelHash = m.Hash, Options = o,
            Explainer = new ExplainerSettings(eo.Steps, eo.Samples, eo.Seed, eo.PerturbWords),
            Methods = summaries, Examples = results, RationaleTopK = withRationale.Count == 0 ? null : topK,
            ExamplesWithRationale = results.Count(r => r.HasRationale), Warnings = warnings.Distinct().ToList(),
        };

        int MaskId()
        {
            var t = _explainer.Tokenizer;
            return t.TokenToId("[MASK]") ?? t.TokenToId("<mask>")
                ?? throw new ArgumentException("Removal by masking needs a mask token, but this tokenizer has neither [MASK] nor <mask>; use removal by deletion or by the pad token.");
        }
    }

    private MethodQuality Summarise(string name, List<ExampleQuality> results, IReadOnlyList<EvaluationExample> examples, QualityOptions o, int? topK)
    {
        var scores = results.Select(r => r.Methods[name]).ToList();
        var metrics = QualityMetrics.Faithfulness.Concat(QualityMetrics.Plausibility)
            .ToDictionary(k => k, k => MetricSummary.Of(scores.Select(s => s.Metrics[k])));
        double[] Mean(Func<FaithfulnessResult, IReadOnlyList<double>> pick) =>
            Enumerable.Range(0, pick(scores[0].Faithfulness).Count).Select(i => scores.Average(s => pick(s.Faithfulness)[i])).ToArray();
        var grid = Enumerable.Range(0, o.CurveGridPoints).Select(i => (double)i / (o.CurveGridPoints - 1)).ToArray();
        MeanCurve Curve(Func<FaithfulnessResult, PerturbationCurve> pick) => new(grid,
            grid.Select(x => scores.Average(s => pick(s.Faithfulness).At(x))).ToArray(),
            grid.Select(x => MetricSummary.Of(scores.Select(s => pick(s.Faithfulness).At(x))).Std).ToArray());

        double tokenMicro = double.NaN, iouMicro = double.NaN, iouMacro = double.NaN;
        var rated = results.Select((r, i) => (r, i)).Where(p => p.r.HasRationale).ToList();
        if (rated.Count > 0 && topK is not null)
        {
            int tp = 0, goldCount = 0, predCount = 0, matches = 0, goldSpans = 0, predSpans = 0;
            double pSum = 0, rSum = 0;
            foreach (var (r, i) in rated)
            {
                var gold = examples[i].Rationale!;
                var predicted = r.Methods[name].PredictedRationale!;
                for (int w = 0; w < gold.Count; w++)
                {
                    if (gold[w]) goldCount++;
                    if (predicted[w]) predCount++;
                    if (gold[w] && predicted[w]) tp++;
                }
                var (mt, g, p) = Plausibility.IouMatches(gold, predicted, o.IouThreshold);
                matches += mt; goldSpans += g; predSpans += p;
                pSum += p == 0 ? 0 : (double)mt / p; rSum += g == 0 ? 0 : (double)mt / g;
            }
            tokenMicro = PrecisionRecallF1.HarmonicMean(predCount == 0 ? 0 : (double)tp / predCount, goldCount == 0 ? 0 : (double)tp / goldCount);
            iouMicro = PrecisionRecallF1.HarmonicMean(predSpans == 0 ? 0 : (double)matches / predSpans, goldSpans == 0 ? 0 : (double)matches / goldSpans);
            iouMacro = PrecisionRecallF1.HarmonicMean(pSum / rated.Count, rSum / rated.Count);
        }
        return new MethodQuality
        {
            Method = name, IsBaseline = name == RandomBaseline, Metrics = metrics,
            ComprehensivenessPerBin = Mean(f => f.ComprehensivenessPerBin), SufficiencyPerBin = Mean(f => f.SufficiencyPerBin),
            AopcPerFraction = Mean(f => f.AopcPerFraction),
            Deletion = Curve(f => f.Deletion), Insertion = Curve(f => f.Insertion),
            TokenF1Micro = tokenMicro, IouF1Micro = iouMicro, IouF1Macro = iouMacro,
        };
    }

    private static object Gate(ExplainerModel m) => (object?)m.Transformer ?? m.BlackBox!;

    private static string LabelName(ExplainerModel m, int i) => i >= 0 && i < m.Labels.Count ? m.Labels[i] : $"LABEL_{i}";

    internal sealed record PreparedExample(ExplainerInput X, ModelInput Input, IExplainableModel Scorer, bool SingleOutput, int Outputs, double[] Probabilities, int Predicted);

    /// <summary>The explainer's input for a text (cleaned, special tokens, truncation) and the model's scores on it.</summary>
    internal static PreparedExample Prepare(SequenceClassificationExplainer explainer, string text, ExplainerOptions o)
    {
        ExplainerCore.CheckText(text, "text");
        var m = explainer.Model;
        var piece = TextPiece.Encode(explainer.Tokenizer, text, clean: true);
        var parts = ExplainerInput.TemplateParts(explainer.Tokenizer, piece, null);
        int max = Math.Min(o.MaxLength ?? int.MaxValue, m.MaxTokens);
        var x = ExplainerInput.Build(explainer.Tokenizer, parts, m.Specials.Pad, _ => piece.Count, max, o.Truncate, "The text");
        var input = x.Input(m);
        float[] raw;
        lock (Gate(m))
        using (Glassbox.Tensors.Tape.NoGrad())
            raw = m.Scorer(OutputTransform.None).Predict(input).ToArray();
        bool single = raw.Length == 1;
        double[] probs = m.Transformer is null ? raw.Select(v => (double)v).ToArray()
            : single ? [1 / (1 + Math.Exp(-raw[0]))] : TextExplainer.Softmax(raw);
        int predicted = single ? 0 : TextExplainer.ArgMax(probs);
        var scorer = m.Scorer(single ? OutputTransform.Sigmoid : OutputTransform.Softmax);
        return new PreparedExample(x, input, scorer, single, raw.Length, probs, predicted);
    }
}
