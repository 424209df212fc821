// Sanity checks for saliency methods (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").
// An explanation that does not change when the model's weights are destroyed, or when the model
// was trained on shuffled labels, cannot be explaining what the model learned.
//
// Model-parameter randomisation, cascading: re-initialise the weights from the top (the
// classification head) down, one layer at a time (head, block L−1, …, block 0, embeddings), each
// step keeping the earlier randomisations, and after each step compare the attributions with the
// trained model's by Spearman rank correlation over the text tokens — signed and of |a|, as the
// paper reports both. Independent randomisation re-initialises one layer at a time on the trained
// model. Re-initialisation follows the model's own scheme (transformers' _init_weights): weight
// matrices and embeddings ~ N(0, initializer_range²), the padding row of padded embeddings zero,
// biases 0, LayerNorm/RMSNorm weights 1 (GPT-2's c_proj: std / √(2·n_layer); ViT: truncated normal;
// DistilBERT's sinusoidal table is recomputed, so it does not change). The weights are restored
// afterwards, also when an explanation fails.
//
// Data (label) randomisation: the same inputs explained by a model trained on shuffled labels;
// the attributions should correlate poorly with the trained model's.
using System.Text.RegularExpressions;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Explain.Quality;

public enum RandomisationOrder
{
    /// <summary>Layers randomised top-down, each step on top of the previous ones.</summary>
    Cascading,
    /// <summary>One layer randomised at a time, the others trained.</summary>
    Independent,
}

/// <summary>Re-initialises one parameter in place (name = checkpoint name).</summary>
public delegate void ParameterReinitializer(string name, Tensor parameter, Random rng);

/// <summary>A group of parameters randomised together: "head", "block {i}" or "embeddings".</summary>
public sealed record LayerGroup(string Name, IReadOnlyList<string> Parameters);

/// <summary>Spearman correlations of attributions after one randomisation step.</summary>
public sealed record RandomisationStep(string Layer, MetricSummary Spearman, MetricSummary SpearmanAbs);

/// <summary>One method's randomisation curve.</summary>
public sealed record RandomisationResult(string Method, RandomisationOrder Order, IReadOnlyList<RandomisationStep> Steps);

public sealed record RandomisationOptions
{
    public RandomisationOrder Order { get; init; } = RandomisationOrder.Cascading;
    public int Seed { get; init; }
    /// <summary>How a parameter is re-initialised; null = ModelInitialization.For(model).</summary>
    public ParameterReinitializer? Reinitializer { get; init; }
}

/// <summary>The label-randomisation comparison for one method.</summary>
public sealed record LabelRandomisationMethod(string Method, MetricSummary Spearman, MetricSummary SpearmanAbs);

public sealed record LabelRandomisationResult(string RandomLabelModel, IReadOnlyList<LabelRandomisationMethod> Methods);

/// <summary>transformers' _init_weights as a ParameterReinitializer.</summary>
public static class ModelInitialization
{
    public static ParameterReinitializer For(TransformerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = ExplainerModel.ConfigOf(model);
        double std = config?.InitializerRange ?? 0.02;
        int? pad = config?.PadTokenId;
        bool truncated = model is Vit;
        int layers = model.LayerCount;
        return (name, p, rng) =>
        {
            var s = p.Span;
            bool isNorm = Regex.IsMatch(name, @"(LayerNorm|layer_norm|layernorm|ln_\w+|(^|\.)norm|_norm)\.weight$", RegexOptions.IgnoreCase);
            if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("_bias", StringComparison.Ordinal)) { s.Clear(); return; }
            if (isNorm && p.Rank == 1) { s.Fill(1f); return; }
            if (model is DistilBert d && name.EndsWith("embeddings.position_embeddings.weight", StringComparison.Ordinal) && d.Config.SinusoidalPosEmbds)
            {
                DistilBert.SinusoidalTable(p.Shape[0], p.Shape[1]).Span.CopyTo(s);
                return;
            }
            double sd = model is Gpt2 && name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? std / Math.Sqrt(2.0 * layers) : std;
            for (int i = 0; i < s.Length; i++) s[i] = (float)(truncated ? TruncatedNormal(rng, sd) : Normal(rng) * sd);
            // nn.Embedding(padding_idx=pad): the padding row starts at zero.
            if (p.Rank == 2 && pad is int row && row >= 0 && row < p.Shape[0]
                && (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) || (model is Roberta && name.EndsWith("position_embeddings.weight", StringComparison.Ordinal))))
                s.Slice(row * p.Shape[1], p.Shape[1]).Clear();
        };
    }

    private static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    // torch.nn.init.trunc_normal_(std=sd) with its default bounds a = −2, b = 2 (absolute values).
    private static double TruncatedNormal(Random rng, double sd)
    {
        while (true)
        {
            double v = Normal(rng) * sd;
            if (v >= -2 && v <= 2) return v;
        }
    }
}

public static class ParameterRandomisation
{
    private static readonly Regex s_block = new(@"(?:^|\.)(?:layer|layers|h|block)\.(\d+)\.", RegexOptions.Compiled);
    private static readonly Regex s_embedding = new(@"embed|(^|\.)wte\.|(^|\.)wpe\.|(^|\.)shared\.|cls_token", RegexOptions.Compiled);

    /// <summary>The model's parameters grouped by layer, top first: head (everything above the blocks),
    /// block L−1 … block 0, embeddings.</summary>
    public static IReadOnlyList<LayerGroup> LayerGroups(TransformerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var head = new List<string>(); var embeddings = new List<string>();
        var blocks = new SortedDictionary<int, List<string>>();
        foreach (var name in model.Parameters.Keys.Order(StringComparer.Ordinal))
        {
            var b = s_block.Match(name);
            if (b.Success) { int i = int.Parse(b.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture); (blocks.TryGetValue(i, out var l) ? l : blocks[i] = []).Add(name); }
            else if (s_embedding.IsMatch(name)) embeddings.Add(name);
            else head.Add(name);
        }
        var groups = new List<LayerGroup>();
        if (head.Count > 0) groups.Add(new LayerGroup("head", head));
        foreach (var (i, names) in blocks.Reverse()) groups.Add(new LayerGroup($"block {i}", names));
        if (embeddings.Count > 0) groups.Add(new LayerGroup("embeddings", embeddings));
        return groups;
    }

    /// <summary>Runs the randomisation for every method over the texts. targets (class per text) default to
    /// the trained model's predictions and stay fixed while the weights change.</summary>
    public static IReadOnlyList<RandomisationResult> Run(SequenceClassificationExplainer explainer, IReadOnlyList<string> texts,
        IReadOnlyList<AttributionMethod> methods, ExplainerOptions? explainerOptions = null, RandomisationOptions? options = null,
        IReadOnlyList<int>? targets = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(explainer); ArgumentNullException.ThrowIfNull(texts); ArgumentNullException.ThrowIfNull(methods);
        var model = explainer.Model.Transformer
            ?? throw new NotSupportedException("Model-parameter randomisation needs a Glassbox transformer (its weights are re-initialised); a black-box model has none to change.");
        if (texts.Count == 0) throw new ArgumentException("There are no texts to explain.");
        if (targets is not null && targets.Count != texts.Count) throw new ArgumentException($"{targets.Count} targets for {texts.Count} texts.");
        var o = options ?? new RandomisationOptions();
        var eo = explainerOptions ?? explainer.Options;
        var reinit = o.Reinitializer ?? ModelInitialization.For(model);
        var groups = LayerGroups(model);

        lock (model)
        {
            var tgt = targets?.ToArray() ?? texts.Select(t => ExplanationEvaluator.Prepare(explainer, t, eo).Predicted).ToArray();
            var original = methods.ToDictionary(m => m, m => texts.Select((t, i) => TextScores(explainer.Explain(t, index: tgt[i], options: eo with { Method = m }))).ToArray());
            var saved = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
            var steps = methods.ToDictionary(m => m, _ => new List<RandomisationStep>());
            var rng = new Random(o.Seed);
            try
            {
                foreach (var group in groups)
                {
                    if (o.Order == RandomisationOrder.Independent) Restore(model, saved);
                    foreach (var name in group.Parameters) reinit(name, model.Parameters[name], rng);
                    foreach (var m in methods)
                    {
                        var rho = new List<double>(); var rhoAbs = new List<double>();
                        for (int i = 0; i < texts.Count; i++)
                        {
                            var a = TextScores(explainer.Explain(texts[i], index: tgt[i], options: eo with { Method = m }));
                            var b = original[m][i];
                            rho.Add(RankCorrelation.Spearman(b, a));
                            rhoAbs.Add(RankCorrelation.Spearman(b.Select(Math.Abs).ToArray(), a.Select(Math.Abs).ToArray()));
                        }
                        steps[m].Add(new RandomisationStep(group.Name, MetricSummary.Of(rho), MetricSummary.Of(rhoAbs)));
                    }
                    log?.Invoke($"randomised {group.Name}");
                }
            }
            finally
            {
                Restore(model, saved);
            }
            return methods.Select(m => new RandomisationResult(AttributionMethods.Name(m), o.Order, steps[m])).ToList();
        }
    }

    internal static double[] TextScores(SequenceClassificationExplanation e) =>
        e.Attribution.Tokens.Where(t => !t.IsSpecial).Select(t => t.Raw).ToArray();

    private static void Restore(TransformerModel model, Dictionary<string, float[]> saved)
    {
        foreach (var (name, values) in saved) values.CopyTo(model.Parameters[name].Span);
    }
}

public static class LabelRandomisation
{
    /// <summary>Spearman correlation between the attributions of the trained model and those of a model trained
    /// on shuffled labels, per method, for the same texts and target classes (default: the trained model's predictions).</summary>
    public static LabelRandomisationResult Compare(SequenceClassificationExplainer trained, SequenceClassificationExplainer randomLabels,
        IReadOnlyList<string> texts, IReadOnlyList<AttributionMethod> methods, ExplainerOptions? explainerOptions = null, IReadOnlyList<int>? targets = null)
    {
        ArgumentNullException.ThrowIfNull(trained); ArgumentNullException.ThrowIfNull(randomLabels);
        ArgumentNullException.ThrowIfNull(texts); ArgumentNullException.ThrowIfNull(methods);
        if (texts.Count == 0) throw new ArgumentException("There are no texts to explain.");
        if (trained.Labels.Count != randomLabels.Labels.Count)
            throw new ArgumentException($"The random-label model has {randomLabels.Labels.Count} classes but the trained model {trained.Labels.Count}; both must be trained for the same task.");
        var eo = explainerOptions ?? trained.Options;
        var tgt = targets?.ToArray() ?? texts.Select(t => ExplanationEvaluator.Prepare(trained, t, eo).Predicted).ToArray();
        var rows = new List<LabelRandomisationMethod>();
        foreach (var m in methods)
        {
            var rho = new List<double>(); var rhoAbs = new List<double>();
            for (int i = 0; i < texts.Count; i++)
            {
                var a = trained.Explain(texts[i], index: tgt[i], options: eo with { Method = m });
                var b = randomLabels.Explain(texts[i], index: tgt[i], options: eo with { Method = m });
                if (!a.Attribution.Tokens.Select(t => t.Id).SequenceEqual(b.Attribution.Tokens.Select(t => t.Id)))
                    throw new ArgumentException($"The two models tokenise text {i + 1} differently; label randomisation compares models that share a tokenizer.");
                var x = ParameterRandomisation.TextScores(a); var y = ParameterRandomisation.TextScores(b);
                rho.Add(RankCorrelation.Spearman(x, y));
                rhoAbs.Add(RankCorrelation.Spearman(x.Select(Math.Abs).ToArray(), y.Select(Math.Abs).ToArray()));
            }
            rows.Add(new LabelRandomisationMethod(AttributionMethods.Name(m), MetricSummary.Of(rho), MetricSummary.Of(rhoAbs)));
        }
        return new LabelRandomisationResult(randomLabels.Model.Name, rows);
    }
}
