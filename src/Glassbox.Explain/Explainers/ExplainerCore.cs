// Runs the chosen attribution method for one explained output and summarises it the way
// transformers-interpret does: per token, the attribution summed over the embedding dimension
// (optionally sign-flipped), cut at endIdx, divided by its L2 norm. Layer IG keeps Captum's
// convergence delta, whose baseline forward runs on the full reference input (reference ids,
// token types 0, positions 0), exactly as LayerIntegratedGradients.attribute computes it.
using Glassbox.Models;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

internal sealed record RawAttribution(float[] PerToken, double? Delta, double? InputScore, double? BaselineScore, string Detail);

internal static class ExplainerCore
{
    /// <summary>The hook point an embedding type means (or the user's layer).</summary>
    public static string Layer(ExplainerModel m, ExplainerOptions o, EmbeddingType fallback, List<string> warnings)
    {
        if (o.Layer is { } custom) return custom;
        var type = o.EmbeddingType ?? fallback;
        if (type == EmbeddingType.Position && !m.AcceptsPositionIds)
        {
            warnings.Add($"This model ({m.ModelType}) does not take position ids, so attributions cannot be made to position embeddings; word embeddings were used instead (as transformers-interpret does).");
            type = EmbeddingType.Word;
        }
        return type switch
        {
            EmbeddingType.Position => "hook_pos_embed",
            EmbeddingType.All => "blocks.0.hook_resid_pre",
            _ => "hook_embed",
        };
    }

    public static RawAttribution Run(ExplainerModel m, IExplainableModel scorer, ExplainerInput x, int target, ExplainerOptions o,
        EmbeddingType defaultEmbedding, int query, List<string> warnings)
    {
        // Hooks belong to the model: explainers sharing a model take turns.
        lock ((object?)m.Transformer ?? scorer) return RunUnlocked(m, scorer, x, target, o, defaultEmbedding, query, warnings);
    }

    private static RawAttribution RunUnlocked(ExplainerModel m, IExplainableModel scorer, ExplainerInput x, int target, ExplainerOptions o,
        EmbeddingType defaultEmbedding, int query, List<string> warnings)
    {
        if (o.Steps < 1) throw new ArgumentOutOfRangeException(nameof(o), $"Steps must be at least 1, got {o.Steps}.");
        int n = x.Length;
        switch (o.Method)
        {
            case AttributionMethod.Lig:
            {
                string layer = Layer(m, o, defaultEmbedding, warnings);
                var a = GradientMethods.LayerIntegratedGradients(scorer, x.Input(m), x.Baseline(m), target, layer, o.Steps, o.Quadrature, o.InternalBatchSize);
                return new RawAttribution(PerToken(a, n, layer, a.SumLastDim), a.ConvergenceDelta, a.InputScore, a.BaselineScore, layer);
            }
            case AttributionMethod.Ig:
            {
                // Captum IntegratedGradients on inputs_embeds: only the word embeddings move; positions
                // and token types stay the input's, also in the baseline forward.
                var a = GradientMethods.LayerIntegratedGradients(scorer, x.Input(m), x.EmbeddingBaseline(m), target, "hook_embed", o.Steps, o.Quadrature, o.InternalBatchSize);
                return new RawAttribution(PerToken(a, n, "hook_embed", a.SumLastDim), a.ConvergenceDelta, a.InputScore, a.BaselineScore, "hook_embed");
            }
            case AttributionMethod.Saliency:
            {
                string layer = Layer(m, o, defaultEmbedding, warnings);
                var a = GradientMethods.Saliency(scorer, x.Input(m), target, layer);
                return new RawAttribution(PerToken(a, n, layer, a.L2LastDim), null, a.InputScore, null, layer);
            }
            case AttributionMethod.InputXGradient:
            {
                string layer = Layer(m, o, defaultEmbedding, warnings);
                var a = GradientMethods.InputXGradient(scorer, x.Input(m), target, layer);
                return new RawAttribution(PerToken(a, n, layer, a.SumLastDim), null, a.InputScore, null, layer);
            }
            case AttributionMethod.SmoothGrad:
            {
                string layer = Layer(m, o, defaultEmbedding, warnings);
                var a = GradientMethods.NoiseTunnel(scorer, x.Input(m), target, layer, GradientMethods.NoiseTunnelType.SmoothGrad, o.NoiseSamples, o.NoiseStdev, o.Seed);
                return new RawAttribution(PerToken(a, n, layer, a.L2LastDim), null, a.InputScore, null, layer);
            }
            case AttributionMethod.Occlusion:
            case AttributionMethod.Lime:
            case AttributionMethod.KernelShap:
            {
                var groups = FeatureGroups(x, o.PerturbWords);
                if (groups.Count == 0) throw new ArgumentException("There are no text tokens to perturb.");
                var input = x.Input(m);
                int refId = m.Specials.Pad;
                var r = o.Method switch
                {
                    AttributionMethod.Occlusion => PerturbationMethods.FeatureAblation(scorer, input, target, refId, groups),
                    AttributionMethod.Lime => PerturbationMethods.Lime(scorer, input, target, refId, o.Samples, o.Seed, featureGroups: groups),
                    _ => PerturbationMethods.KernelShap(scorer, input, target, refId, o.Samples, o.Seed, featureGroups: groups),
                };
                double f = ModelChecks.Score(scorer, input, target);
                return new RawAttribution(r, null, f, null, o.PerturbWords ? "words" : "tokens");
            }
            case AttributionMethod.Attention:
            case AttributionMethod.Rollout:
            case AttributionMethod.Flow:
            {
                var patterns = AttentionMethods.Patterns(scorer, x.Input(m));
                double f = ModelChecks.Score(scorer, x.Input(m), target);
                var r = new float[n];
                if (o.Method == AttributionMethod.Attention)
                {
                    int layer = o.AttentionLayer ?? patterns.Length - 1;
                    if (layer < 0 || layer >= patterns.Length)
                        throw new ArgumentOutOfRangeException(nameof(o), $"Attention layer {layer} does not exist; the model has {patterns.Length} layers (0..{patterns.Length - 1}).");
                    var heads = patterns[layer];
                    for (int k = 0; k < n; k++) r[k] = (float)heads.Average(h => h[query][k]);
                    return new RawAttribution(r, null, f, null, $"layer {layer}, mean over heads, query {query}");
                }
                if (o.Method == AttributionMethod.Flow)
                {
                    var flow = AttentionMethods.Flow(patterns, query);
                    for (int k = 0; k < n; k++) r[k] = (float)flow[k];
                    return new RawAttribution(r, null, f, null, $"attention flow, query {query}");
                }
                var roll = AttentionMethods.Rollout(patterns);
                for (int k = 0; k < n; k++) r[k] = (float)roll[query, k];
                return new RawAttribution(r, null, f, null, $"rollout, query {query}");
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(o), $"Unknown attribution method {o.Method}.");
        }
    }

    private static float[] PerToken(LayerAttribution a, int n, string layer, Func<float[]> reduce)
    {
        if (a.Shape.Length != 2 || a.Shape[0] != n)
            throw new ArgumentException($"Hook point '{layer}' has shape [{string.Join(", ", a.Shape)}] per example; token attributions need [{n}, dim] (e.g. hook_embed, hook_pos_embed, blocks.i.hook_resid_pre).");
        return reduce();
    }

    /// <summary>The text tokens, one group each, or one group per word.</summary>
    public static List<int[]> FeatureGroups(ExplainerInput x, bool words)
    {
        var groups = new List<int[]>();
        var cur = new List<int>(); (int, int?)? key = null;
        for (int i = 0; i < x.Length; i++)
        {
            if (x.Special[i]) { Flush(); key = null; continue; }
            var k = (x.Sequence[i], x.WordIds[i]);
            if (!words || x.WordIds[i] is null || key != k) { Flush(); key = k; }
            cur.Add(i);
        }
        Flush();
        return groups;
        void Flush() { if (cur.Count > 0) { groups.Add([.. cur]); cur.Clear(); } }
    }

    /// <summary>transformers-interpret's summarize: sum (already done), × −1 when flipping, cut at endIdx, ÷ L2 norm.</summary>
    public static TextAttribution Summarize(ExplainerInput x, RawAttribution raw, string target, int targetIndex, ExplainerOptions o,
        bool flipSign = false, int? endIdx = null)
    {
        int end = Math.Min(endIdx ?? x.Length, x.Length);
        var r = new double[end];
        for (int i = 0; i < end; i++) r[i] = raw.PerToken[i] * (flipSign ? -1.0 : 1.0);
        double norm = Math.Sqrt(r.Sum(v => v * v));
        var tokens = new TokenAttribution[end];
        for (int i = 0; i < end; i++)
        {
            var (s, e) = x.Offsets[i];
            tokens[i] = new TokenAttribution(i, x.Ids[i], x.DisplayToken(i), x.Sequence[i], s, e, x.Special[i], r[i], norm == 0 ? 0 : r[i] / norm);
        }
        return new TextAttribution
        {
            Target = target, TargetIndex = targetIndex, Tokens = tokens, Words = Words(x, tokens, o.WordAggregation),
            ConvergenceDelta = raw.Delta, InputScore = raw.InputScore, BaselineScore = raw.BaselineScore,
        };
    }

    /// <summary>Consecutive text tokens of one word (same sequence and word id) as one word, spans from the offsets.</summary>
    public static IReadOnlyList<WordAttribution> Words(ExplainerInput x, IReadOnlyList<TokenAttribution> tokens, WordAggregation how)
    {
        var words = new List<WordAttribution>();
        var cur = new List<int>(); (int, int?)? key = null;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (x.Special[i]) { Flush(); key = null; continue; }
            var k = (x.Sequence[i], x.WordIds[i]);
            if (x.WordIds[i] is null || key != k) { Flush(); key = k; }
            cur.Add(i);
        }
        Flush();
        return words;

        void Flush()
        {
            if (cur.Count == 0) return;
            int seq = x.Sequence[cur[0]];
            int start = cur.Min(i => tokens[i].Start), end = cur.Max(i => tokens[i].End);
            string src = seq >= 0 && seq < x.Sources.Length ? x.Sources[seq] : "";
            string text = start >= 0 && end <= src.Length && start <= end ? src[start..end] : string.Concat(cur.Select(i => tokens[i].Token));
            words.Add(new WordAttribution(text, seq, start, end, [.. cur], Aggregate(cur, i => tokens[i].Raw, how), Aggregate(cur, i => tokens[i].Score, how)));
            cur.Clear();
        }
    }

    private static double Aggregate(List<int> idx, Func<int, double> v, WordAggregation how) => how switch
    {
        WordAggregation.Sum => idx.Sum(v),
        WordAggregation.Mean => idx.Average(v),
        WordAggregation.Max => idx.Max(v),
        WordAggregation.MaxAbs => idx.Select(v).OrderByDescending(Math.Abs).First(),
        _ => v(idx[0]),
    };

    public static Dictionary<string, string> Parameters(ExplainerOptions o, string detail, params (string Key, string? Value)[] extra)
    {
        var p = new Dictionary<string, string> { ["method"] = AttributionMethods.Name(o.Method) };
        switch (o.Method)
        {
            case AttributionMethod.Lig or AttributionMethod.Ig:
                p["layer"] = detail; p["steps"] = o.Steps.ToString(); p["quadrature"] = Quadrature.Name(o.Quadrature);
                if (o.InternalBatchSize is { } ib) p["internalBatchSize"] = ib.ToString();
                p["baseline"] = o.Method == AttributionMethod.Lig ? "pad tokens, special tokens kept, token types 0, positions 0" : "pad-token embeddings";
                break;
            case AttributionMethod.Saliency or AttributionMethod.InputXGradient:
                p["layer"] = detail; break;
            case AttributionMethod.SmoothGrad:
                p["layer"] = detail; p["noiseSamples"] = o.NoiseSamples.ToString(); p["noiseStdev"] = o.NoiseStdev.ToString("R"); p["seed"] = o.Seed.ToString(); break;
            case AttributionMethod.Occlusion:
                p["features"] = detail; p["baseline"] = "pad token"; break;
            case AttributionMethod.Lime or AttributionMethod.KernelShap:
                p["features"] = detail; p["samples"] = o.Samples.ToString(); p["seed"] = o.Seed.ToString(); p["baseline"] = "pad token"; break;
            default:
                p["pattern"] = detail; break;
        }
        p["normalisation"] = "per-token sum over the embedding dimension divided by its L2 norm";
        foreach (var (k, v) in extra) if (v is not null) p[k] = v;
        return p;
    }

    public static void CheckText(string? text, string what)
    {
        if (text is null) throw new ArgumentNullException(what, $"The {what} is null.");
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException($"The {what} is empty; there is nothing to explain.", what);
    }
}
