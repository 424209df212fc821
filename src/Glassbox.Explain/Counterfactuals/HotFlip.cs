// HotFlip (Ebrahimi et al. 2018) as LIT runs it (lit_nlp/components/hotflip.py): one backward
// pass gives the gradient g_i of the loss at each token's embedding; replacing token x_i by v
// changes the embedding by E[v] − E[x_i], so the first-order estimate of the loss change is
//     Δ(i, v) ≈ (E[v] − E[x_i]) · g_i
// for every vocabulary token v at once (one [vocab, d] × [d, positions] product). The loss is
// −log p(predicted class), so a positive Δ pushes the prediction away. The best v per position
// is kept; positions are ranked by their best estimate (LIT ranks by ‖g_i‖; the estimate is the
// quantity the flip actually uses), the top MaxFlippablePositions are kept, and sets of 1, 2, …,
// MaxFlips positions are tried in that order, each verified by re-predicting. A set that contains
// an already successful set is skipped, so every returned counterfactual is minimal: no strict
// subset of its flips (among those tried) changes the prediction. Special tokens are never
// flipped, and placeholders ([CLS], [unused0], <mask>, …) are never inserted.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Counterfactuals;

public sealed class HotFlipOptions
{
    /// <summary>Largest number of positions flipped together (LIT: 3).</summary>
    public int MaxFlips { get; init; } = 3;
    /// <summary>Positions considered, best first-order estimates first (LIT: 10).</summary>
    public int MaxFlippablePositions { get; init; } = 10;
    /// <summary>Stop after this many successful flips (LIT: 5).</summary>
    public int MaxCounterfactuals { get; init; } = 5;
    /// <summary>Tokens never flipped (as the tokenizer spells them).</summary>
    public IReadOnlyCollection<string> TokensToIgnore { get; init; } = [];
    /// <summary>The hook point holding the token embeddings the embedding matrix produces.</summary>
    public string EmbeddingHook { get; init; } = "hook_embed";
    /// <summary>Rows per forward pass when verifying candidate flips.</summary>
    public int BatchSize { get; init; } = 32;
}

/// <summary>One position's best replacement and the first-order estimate of the loss change.</summary>
public sealed record HotFlipCandidate(int Position, string Token, int TokenId, string Replacement, int ReplacementId, double EstimatedLossChange);

/// <summary>Gradient-guided token substitutions through the embedding matrix until the prediction flips.</summary>
public sealed class HotFlip
{
    public const string Name = "hotflip";

    private readonly IExplainableModel _model;
    private readonly TextEncoder _encoder;
    private readonly Tensor _embeddings;
    private readonly bool[] _excluded;

    public HotFlipOptions Options { get; }

    /// <param name="model">A differentiable classifier (black boxes are refused).</param>
    /// <param name="encoder">Its tokenizer and length limit.</param>
    /// <param name="embeddingMatrix">The input embedding matrix [vocab, d] feeding Options.EmbeddingHook; found
    /// automatically for Glassbox transformers (word_embeddings / wte / embed_in / embed_tokens / shared).</param>
    public HotFlip(IExplainableModel model, TextEncoder encoder, Tensor? embeddingMatrix = null, HotFlipOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        Options = options ?? new HotFlipOptions();
        if (Options.MaxFlips < 1 || Options.MaxFlippablePositions < 1 || Options.MaxCounterfactuals < 1 || Options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"HotFlip options must be ≥ 1: MaxFlips {Options.MaxFlips}, MaxFlippablePositions {Options.MaxFlippablePositions}, MaxCounterfactuals {Options.MaxCounterfactuals}, BatchSize {Options.BatchSize}.");
        ModelChecks.RequireGradients(model, "HotFlip");
        _model = model;
        _encoder = encoder;
        _embeddings = embeddingMatrix ?? FindEmbeddingMatrix(model)
            ?? throw new ArgumentException($"HotFlip needs the input embedding matrix of '{model.Name}'; pass it as embeddingMatrix [vocab, d].", nameof(embeddingMatrix));
        if (_embeddings.Rank != 2)
            throw new ArgumentException($"HotFlip: the embedding matrix must be [vocab, d], got shape [{string.Join(", ", _embeddings.Shape)}].", nameof(embeddingMatrix));
        _excluded = new bool[_embeddings.Shape[0]];
        for (int v = 0; v < _excluded.Length; v++) _excluded[v] = encoder.IsPlaceholder(v);
    }

    /// <summary>The word-embedding matrix of a Glassbox transformer, or null.</summary>
    public static Tensor? FindEmbeddingMatrix(IExplainableModel model)
    {
        if (model is not TransformerExplainable te) return null;
        string[] suffixes = ["embeddings.word_embeddings.weight", "wte.weight", "embed_in.weight", "embed_tokens.weight", "shared.weight"];
        foreach (var s in suffixes)
            foreach (var (name, t) in te.Model.Parameters)
                if (name.EndsWith(s, StringComparison.Ordinal) && !name.Contains("decoder.", StringComparison.Ordinal)) return t;
        return null;
    }

    /// <summary>For each flippable position, the best replacement and its estimated loss change, best first.</summary>
    public IReadOnlyList<HotFlipCandidate> Candidates(TextExample example) => Analyse(example).Candidates;

    /// <summary>Minimal sets of token flips that change the predicted class, at most Options.MaxCounterfactuals.</summary>
    public IReadOnlyList<Counterfactual> Generate(TextExample example)
    {
        var (enc, orig, origScores, candidates) = Analyse(example);
        var ranked = candidates.Where(c => c.EstimatedLossChange > 0).Take(Options.MaxFlippablePositions).ToArray();
        var successes = new List<HashSet<int>>();
        var output = new List<Counterfactual>();
        double origLoss = -Math.Log(Math.Max(origScores[orig], 1e-30));
        for (int size = 1; size <= Math.Min(Options.MaxFlips, ranked.Length); size++)
        {
            var sets = Combinations(ranked.Length, size)
                .Where(set => !successes.Any(s => s.IsSubsetOf(set.Select(k => ranked[k].Position))))
                .ToArray();
            if (sets.Length == 0) continue;
            var rows = sets.Select(set =>
            {
                var ids = (int[])enc.Ids.Clone();
                foreach (var k in set) ids[ranked[k].Position] = ranked[k].ReplacementId;
                return ids;
            }).ToArray();
            var scores = _encoder.Predict(_model, rows, Options.BatchSize);
            for (int r = 0; r < sets.Length; r++)
            {
                int pred = TextEncoder.ArgMax(scores[r]);
                if (pred == orig) continue;
                var chosen = sets[r].Select(k => ranked[k]).OrderBy(c => c.Position).ToArray();
                successes.Add(chosen.Select(c => c.Position).ToHashSet());
                output.Add(new Counterfactual
                {
                    Id = $"{example.Id}:{Name}:{output.Count}",
                    ParentId = example.Id,
                    Generator = Name,
                    Text = _encoder.Tokenizer.Decode(rows[r].Where((_, i) => !enc.IsSpecial[i]).ToArray()),
                    Unit = "token",
                    Edits = chosen.Select(c => new CounterfactualEdit(c.Position, c.Token, c.Replacement, enc.Offsets[c.Position].Start, enc.Offsets[c.Position].End, c.TokenId, c.ReplacementId)).ToArray(),
                    Parameters = Describe(),
                    InputIds = rows[r],
                    Scores = scores[r],
                    PredictedClass = pred,
                    Label = example.Label,
                    EstimatedLossChange = chosen.Sum(c => c.EstimatedLossChange),
                    ActualLossChange = -Math.Log(Math.Max(scores[r][orig], 1e-30)) - origLoss,
                });
                if (output.Count >= Options.MaxCounterfactuals) return output;
            }
        }
        return output;
    }

    private Dictionary<string, string> Describe() => new()
    {
        ["maxFlips"] = Options.MaxFlips.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["maxFlippablePositions"] = Options.MaxFlippablePositions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["embeddingHook"] = Options.EmbeddingHook,
        ["loss"] = "-log p(original predicted class)",
    };

    private (EncodedText Enc, int Orig, float[] Scores, List<HotFlipCandidate> Candidates) Analyse(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var enc = _encoder.Encode(example.Text);
        int vocab = _embeddings.Shape[0], d = _embeddings.Shape[1];
        foreach (var id in enc.Ids)
            if (id < 0 || id >= vocab) throw new ArgumentException($"HotFlip: token id {id} is outside the embedding matrix ({vocab} rows); the tokenizer does not match the model.");
        var input = ModelInput.Single(enc.Ids, enc.TypeIds);
        var hooks = _model.Hooks!;
        Tensor grad;
        float[] scores;
        int orig;
        using (var tape = Tape.Record())
        {
            ActivationCache cache;
            Tensor probs;
            using (hooks.Capture(Options.EmbeddingHook, out cache)) probs = _model.Predict(input);
            if (!cache.TryGetValue(Options.EmbeddingHook, out var emb))
                throw new InvalidOperationException($"HotFlip: '{_model.Name}' has no hook point '{Options.EmbeddingHook}'; set HotFlipOptions.EmbeddingHook to the hook holding the token embeddings.");
            if (emb.Rank != 3 || emb.Shape[1] != enc.Length || emb.Shape[2] != d)
                throw new InvalidOperationException($"HotFlip: '{Options.EmbeddingHook}' has shape [{string.Join(", ", emb.Shape)}]; expected [1, {enc.Length}, {d}] to match the embedding matrix.");
            scores = probs.Span.ToArray();
            orig = TextEncoder.ArgMax(scores);
            var loss = Ops.Neg(Ops.Log(Ops.Clamp(Ops.Narrow(probs, 1, orig, 1), 1e-30f, float.MaxValue)));
            grad = tape.Gradient(Ops.Sum(loss), emb)[0];
        }
        using var _ = Tape.NoGrad();
        using var g2 = Ops.Reshape(grad, enc.Length, d);
        using var dots = Ops.MatMul(_embeddings, g2, transB: true); // [vocab, positions]: E[v]·g_i
        var ds = dots.Span;
        var ignore = Options.TokensToIgnore.ToHashSet(StringComparer.Ordinal);
        var candidates = new List<HotFlipCandidate>();
        for (int i = 0; i < enc.Length; i++)
        {
            if (enc.IsSpecial[i] || ignore.Contains(enc.Tokens[i])) continue;
            int x = enc.Ids[i], best = -1;
            float bestDot = float.NegativeInfinity;
            for (int v = 0; v < vocab; v++)
            {
                if (v == x || _excluded[v]) continue;
                float s = ds[v * enc.Length + i];
                if (s > bestDot) { bestDot = s; best = v; }
            }
            if (best < 0) continue;
            double est = (double)bestDot - ds[x * enc.Length + i];
            candidates.Add(new HotFlipCandidate(i, enc.Tokens[i], x, _encoder.Tokenizer.IdToToken(best) ?? best.ToString(System.Globalization.CultureInfo.InvariantCulture), best, est));
        }
        grad.Dispose();
        candidates.Sort((a, b) => b.EstimatedLossChange.CompareTo(a.EstimatedLossChange));
        return (enc, orig, scores, candidates);
    }

    /// <summary>k-subsets of 0..n-1 in lexicographic order.</summary>
    internal static IEnumerable<int[]> Combinations(int n, int k)
    {
        if (k > n || k < 1) yield break;
        var c = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            yield return (int[])c.Clone();
            int i = k - 1;
            while (i >= 0 && c[i] == n - k + i) i--;
            if (i < 0) yield break;
            c[i]++;
            for (int j = i + 1; j < k; j++) c[j] = c[j - 1] + 1;
        }
    }
}
