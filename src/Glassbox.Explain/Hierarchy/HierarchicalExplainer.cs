// Phrase-level (hierarchical) explanations for any classifier, black boxes included.
//
// The units are words (the tokenizer's word grouping). A phrase p is a contiguous run of words. Its
// importance is one of:
//   - occlusion: φ(p) = f(x) − f(x with p's tokens replaced by the baseline token);
//   - SOC (Jin et al. 2020, "Towards Hierarchical Importance Attribution"): the same difference, but
//     averaged over samples in which the words within `Radius` tokens around p are replaced by sampled
//     tokens — the phrase's effect with its context marginalised, so a word whose effect depends on its
//     neighbour ("not" in "not good") is not credited with the pair's effect.
// The tree is built agglomeratively: starting from the words, the adjacent pair whose joint effect is
// least additive (largest |φ(A∪B) − φ(A) − φ(B)|, the interaction) is merged, until one span covers
// the sentence. Each node keeps its score and the interaction of its two children.
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Hierarchy;

/// <summary>How a phrase's importance is measured.</summary>
public enum PhraseScoring
{
    /// <summary>Plain occlusion of the phrase.</summary>
    Occlusion,
    /// <summary>Sampling and occlusion: occlusion averaged over sampled contexts.</summary>
    Soc,
}

/// <summary>Settings for hierarchical explanations.</summary>
public sealed record HierarchicalOptions
{
    /// <summary>Occlusion or SOC (default SOC).</summary>
    public PhraseScoring Scoring { get; init; } = PhraseScoring.Soc;
    /// <summary>SOC: tokens on each side of the phrase whose values are resampled (Jin et al.'s N; default 10).</summary>
    public int Radius { get; init; } = 10;
    /// <summary>SOC: sampled contexts per phrase (default 20).</summary>
    public int Samples { get; init; } = 20;
    /// <summary>Seed of the context sampler.</summary>
    public int Seed { get; init; }
    /// <summary>Token id occluded positions are set to (default: the model's pad token).</summary>
    public int? BaselineId { get; init; }
    /// <summary>Token ids context positions are sampled from (uniformly). Default: the sentence's own tokens.
    /// Jin et al. sample from a language model; a dataset's vocabulary is the black-box stand-in.</summary>
    public IReadOnlyList<int>? ContextVocabulary { get; init; }
    /// <summary>Inputs per forward pass (default 64).</summary>
    public int BatchSize { get; init; } = 64;
}

/// <summary>A phrase of the tree: words [Start, End) with their importance, and how non-additive the merge of its children was.</summary>
/// <param name="Start">First word index.</param>
/// <param name="End">One past the last word index.</param>
/// <param name="Text">The phrase as it appears in the input.</param>
/// <param name="Score">φ of the phrase for the explained class.</param>
/// <param name="Interaction">φ(this) − φ(left) − φ(right); 0 for a word.</param>
/// <param name="Children">The two merged phrases (empty for a word).</param>
public sealed record PhraseNode(int Start, int End, string Text, double Score, double Interaction, IReadOnlyList<PhraseNode> Children)
{
    /// <summary>This node and all below it, parents first.</summary>
    public IEnumerable<PhraseNode> Descendants() => Children.SelectMany(c => c.Descendants()).Prepend(this);
}

/// <summary>A hierarchical explanation of one prediction.</summary>
public sealed record HierarchicalExplanation(string Text, IReadOnlyList<string> Labels, int TargetIndex, string TargetName, double InputScore,
    IReadOnlyList<string> Words, PhraseNode Root, PhraseScoring Scoring, IReadOnlyDictionary<string, string> Parameters);

/// <summary>Builds phrase trees for a text classifier (any <see cref="IExplainableModel"/>).</summary>
public sealed class HierarchicalExplainer
{
    private readonly IExplainableModel _model;
    private readonly Tokenizer _tokenizer;

    /// <summary>Creates the explainer; scores are the model's outputs (probabilities for the usual classifiers).</summary>
    public HierarchicalExplainer(IExplainableModel model, Tokenizer tokenizer)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    }

    /// <summary>Explains <paramref name="text"/> for class <paramref name="target"/> (default: the predicted class).</summary>
    public HierarchicalExplanation Explain(string text, int? target = null, HierarchicalOptions? options = null)
    {
        options ??= new HierarchicalOptions();
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("Cannot explain empty text.", nameof(text));
        if (options.Samples < 1 || options.Radius < 0 || options.BatchSize < 1)
            throw new ArgumentException($"Hierarchical options need Samples ≥ 1, Radius ≥ 0 and BatchSize ≥ 1; got {options}.", nameof(options));
        var encoding = _tokenizer.Encode(text);
        int[] ids = encoding.Ids.ToArray();
        var special = encoding.SpecialTokensMask.ToArray();
        var wordOf = encoding.WordIds.ToArray();
        // Words: groups of non-special tokens sharing a word id, in order.
        var words = new List<List<int>>();
        int? lastWord = null;
        for (int t = 0; t < ids.Length; t++)
        {
            if (special[t] == 1 || wordOf[t] is null) { lastWord = null; continue; }
            if (wordOf[t] != lastWord) words.Add([]);
            words[^1].Add(t);
            lastWord = wordOf[t];
        }
        if (words.Count == 0) throw new ArgumentException($"'{text}' has no words to explain after tokenization.", nameof(text));
        var offsets = encoding.Offsets.ToArray();
        string WordsText(int start, int end) => text[offsets[words[start][0]].Start..offsets[words[end - 1][^1]].End];

        int baseline = options.BaselineId ?? ExplainerModel.FindSpecials(_tokenizer, null, null).Pad;
        double inputScore;
        int targetIndex;
        using (Tape.NoGrad())
        using (var s = _model.Predict(ModelInput.Single(ids)))
        {
            var row = s.ToArray();
            targetIndex = target ?? Array.IndexOf(row, row.Max());
            if (targetIndex < 0 || targetIndex >= row.Length)
                throw new ArgumentOutOfRangeException(nameof(target), $"Class index {targetIndex} is out of range; the model's classes are: {string.Join(", ", _model.OutputNames)}.");
            inputScore = row[targetIndex];
        }

        var contentPositions = words.SelectMany(w => w).ToArray();
        var vocabulary = options.ContextVocabulary is { Count: > 0 } v ? v.ToArray() : contentPositions.Select(p => ids[p]).Distinct().ToArray();
        var cache = new Dictionary<(int, int), double>();
        double Phi(int start, int end)
        {
            if (cache.TryGetValue((start, end), out var known)) return known;
            var phrase = Enumerable.Range(start, end - start).SelectMany(w => words[w]).ToHashSet();
            double value;
            if (options.Scoring == PhraseScoring.Occlusion)
            {
                var occluded = (int[])ids.Clone();
                foreach (var p in phrase) occluded[p] = baseline;
                value = inputScore - Scores([occluded], targetIndex, options.BatchSize)[0];
            }
            else
            {
                // Context: content tokens within Radius of the phrase's first/last token, outside the phrase.
                int first = phrase.Min(), last = phrase.Max();
                var context = contentPositions.Where(p => !phrase.Contains(p) && p >= first - options.Radius && p <= last + options.Radius).ToArray();
                // A fixed mix of seed and span (HashCode.Combine is randomised per process): the same seed gives the same
                // samples in every run.
                var rng = new Random(unchecked(options.Seed * 1_000_003 + start * 10_007 + end * 101));
                var rows = new List<int[]>(2 * options.Samples);
                for (int s = 0; s < options.Samples; s++)
                {
                    var sampled = (int[])ids.Clone();
                    foreach (var p in context) sampled[p] = vocabulary[rng.Next(vocabulary.Length)];
                    var occluded = (int[])sampled.Clone();
                    foreach (var p in phrase) occluded[p] = baseline;
                    rows.Add(sampled);
                    rows.Add(occluded);
                }
                var scores = Scores(rows, targetIndex, options.BatchSize);
                double sum = 0;
                for (int s = 0; s < options.Samples; s++) sum += scores[2 * s] - scores[2 * s + 1];
                value = sum / options.Samples;
            }
            return cache[(start, end)] = value;
        }

        var level = Enumerable.Range(0, words.Count).Select(w => new PhraseNode(w, w + 1, WordsText(w, w + 1), Phi(w, w + 1), 0, [])).ToList();
        while (level.Count > 1)
        {
            int best = 0;
            double bestInteraction = double.NegativeInfinity, bestScore = 0;
            for (int i = 0; i + 1 < level.Count; i++)
            {
                double joint = Phi(level[i].Start, level[i + 1].End);
                double interaction = joint - level[i].Score - level[i + 1].Score;
                if (Math.Abs(interaction) > bestInteraction + 1e-12)
                {
                    best = i;
                    bestInteraction = Math.Abs(interaction);
                    bestScore = joint;
                }
            }
            var (a, b) = (level[best], level[best + 1]);
            var merged = new PhraseNode(a.Start, b.End, WordsText(a.Start, b.End), bestScore, bestScore - a.Score - b.Score, [a, b]);
            level[best] = merged;
            level.RemoveAt(best + 1);
        }

        var parameters = new Dictionary<string, string>
        {
            ["scoring"] = options.Scoring == PhraseScoring.Soc ? "soc" : "occlusion",
            ["baselineId"] = baseline.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (options.Scoring == PhraseScoring.Soc)
        {
            parameters["radius"] = options.Radius.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["samples"] = options.Samples.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["seed"] = options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var labels = _model.OutputNames;
        return new HierarchicalExplanation(text, labels, targetIndex, targetIndex < labels.Count ? labels[targetIndex] : targetIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
            inputScore, Enumerable.Range(0, words.Count).Select(w => WordsText(w, w + 1)).ToArray(), level[0], options.Scoring, parameters);
    }

    private double[] Scores(IReadOnlyList<int[]> rows, int target, int batchSize)
    {
        var result = new double[rows.Count];
        for (int start = 0; start < rows.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, rows.Count - start);
            int len = rows[start].Length;
            var flat = new int[n * len];
            for (int i = 0; i < n; i++) rows[start + i].CopyTo(flat, i * len);
            using var _ = Tape.NoGrad();
            using var s = _model.Predict(new ModelInput(n, len, flat, Enumerable.Repeat(1, n * len).ToArray()));
            int c = s.Shape[^1];
            for (int i = 0; i < n; i++) result[start + i] = s.Span[i * c + target];
        }
        return result;
    }
}
