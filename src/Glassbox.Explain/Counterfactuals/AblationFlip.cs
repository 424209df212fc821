// LIT's AblationFlip (lit_nlp/components/ablation_flip.py): a black-box search for the smallest
// sets of removed words (or tokens) that change the predicted class. Each unit is first removed
// alone (leave-one-out); units are ranked by how much their removal lowers the probability of the
// original class, the top MaxAblatableUnits are kept, and sets of size 1, 2, …, MaxAblations are
// tried in that order. A set containing an already successful set is skipped, so every result is
// minimal: no strict subset of its removals flips the prediction (all subsets drawn from the ranked
// units were tried first). Words are whitespace-separated and re-joined with single spaces, as LIT
// does; tokens are the model's tokens (special tokens are never removed). Removing every unit is
// never tried. Only Predict is used, so ONNX files and HTTP endpoints work.
using System.Text.RegularExpressions;

namespace Glassbox.Explain.Counterfactuals;

public enum AblationUnit { Word, Token }

public sealed class AblationFlipOptions
{
    /// <summary>Largest number of units removed together (LIT: 5).</summary>
    public int MaxAblations { get; init; } = 5;
    /// <summary>Units considered, largest leave-one-out drop first (LIT: 10).</summary>
    public int MaxAblatableUnits { get; init; } = 10;
    /// <summary>Stop after this many successful flips (LIT: 10).</summary>
    public int MaxCounterfactuals { get; init; } = 10;
    public AblationUnit Unit { get; init; } = AblationUnit.Word;
    /// <summary>Units never removed (words or tokens as spelled in the text / by the tokenizer).</summary>
    public IReadOnlyCollection<string> UnitsToIgnore { get; init; } = [];
    public int BatchSize { get; init; } = 32;
}

/// <summary>Black-box removal of words or tokens, smallest sets first, until the prediction flips.</summary>
public sealed class AblationFlip
{
    public const string Name = "ablation-flip";

    private readonly IExplainableModel _model;
    private readonly TextEncoder _encoder;
    public AblationFlipOptions Options { get; }

    public AblationFlip(IExplainableModel model, TextEncoder encoder, AblationFlipOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        Options = options ?? new AblationFlipOptions();
        if (Options.MaxAblations < 1 || Options.MaxAblatableUnits < 1 || Options.MaxCounterfactuals < 1 || Options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"Ablation-flip options must be ≥ 1: MaxAblations {Options.MaxAblations}, MaxAblatableUnits {Options.MaxAblatableUnits}, MaxCounterfactuals {Options.MaxCounterfactuals}, BatchSize {Options.BatchSize}.");
        _model = model;
        _encoder = encoder;
    }

    private sealed record Unit(int Index, string Text, int CharStart, int CharEnd, int? TokenId);

    /// <summary>Leave-one-out drops (p_cf[orig] − p[orig]) per unit, in unit order; for inspection and tests.</summary>
    public IReadOnlyList<(int Position, string Unit, double Drop)> LeaveOneOut(TextExample example)
    {
        var (units, enc, origScores, orig) = Prepare(example);
        var loo = Loo(units, enc, orig, origScores);
        return units.Select((u, i) => (u.Index, u.Text, loo[i])).ToArray();
    }

    /// <summary>Minimal removal sets that change the predicted class, at most Options.MaxCounterfactuals.</summary>
    public IReadOnlyList<Counterfactual> Generate(TextExample example)
    {
        var (units, enc, origScores, orig) = Prepare(example);
        var output = new List<Counterfactual>();
        if (units.Count < 2) return output; // removing the only unit is never tried
        var loo = Loo(units, enc, orig, origScores);
        var ignore = Options.UnitsToIgnore.ToHashSet(StringComparer.Ordinal);
        var ranked = Enumerable.Range(0, units.Count).Where(i => !ignore.Contains(units[i].Text))
            .OrderBy(i => loo[i]).ThenBy(i => i).Take(Options.MaxAblatableUnits).ToArray();
        var successes = new List<HashSet<int>>();
        double origLoss = -Math.Log(Math.Max(origScores[orig], 1e-30));
        for (int size = 1; size <= Math.Min(Options.MaxAblations, ranked.Length); size++)
        {
            if (size >= units.Count) break;
            var sets = HotFlip.Combinations(ranked.Length, size)
                .Select(set => set.Select(k => ranked[k]).ToHashSet())
                .Where(set => !successes.Any(s => s.IsSubsetOf(set)))
                .ToArray();
            if (sets.Length == 0) continue;
            var rows = sets.Select(set => Ablate(units, enc, set)).ToArray();
            var scores = _encoder.Predict(_model, rows.Select(r => r.Ids).ToArray(), Options.BatchSize);
            for (int r = 0; r < sets.Length; r++)
            {
                int pred = TextEncoder.ArgMax(scores[r]);
                if (pred == orig) continue;
                successes.Add(sets[r]);
                output.Add(new Counterfactual
                {
                    Id = $"{example.Id}:{Name}:{output.Count}",
                    ParentId = example.Id,
                    Generator = Name,
                    Text = rows[r].Text,
                    Unit = Options.Unit == AblationUnit.Word ? "word" : "token",
                    Edits = sets[r].Order().Select(i => new CounterfactualEdit(units[i].Index, units[i].Text, "", units[i].CharStart, units[i].CharEnd, units[i].TokenId, null)).ToArray(),
                    Parameters = new Dictionary<string, string>
                    {
                        ["unit"] = Options.Unit == AblationUnit.Word ? "word" : "token",
                        ["maxAblations"] = Options.MaxAblations.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["maxAblatableUnits"] = Options.MaxAblatableUnits.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                    InputIds = rows[r].Ids,
                    Scores = scores[r],
                    PredictedClass = pred,
                    Label = example.Label,
                    ActualLossChange = -Math.Log(Math.Max(scores[r][orig], 1e-30)) - origLoss,
                });
                if (output.Count >= Options.MaxCounterfactuals) return output;
            }
        }
        return output;
    }

    private (List<Unit> Units, EncodedText Enc, float[] Scores, int Orig) Prepare(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(example.Text, nameof(example.Text));
        var enc = _encoder.Encode(example.Text);
        var units = new List<Unit>();
        if (Options.Unit == AblationUnit.Word)
        {
            foreach (Match m in Regex.Matches(example.Text, @"\S+", RegexOptions.CultureInvariant))
                units.Add(new Unit(units.Count, m.Value, m.Index, m.Index + m.Length, null));
        }
        else
        {
            for (int i = 0; i < enc.Length; i++)
                if (!enc.IsSpecial[i]) units.Add(new Unit(i, enc.Tokens[i], enc.Offsets[i].Start, enc.Offsets[i].End, enc.Ids[i]));
        }
        var scores = _encoder.Predict(_model, [enc.Ids])[0];
        return (units, enc, scores, TextEncoder.ArgMax(scores));
    }

    private double[] Loo(List<Unit> units, EncodedText enc, int orig, float[] origScores)
    {
        if (units.Count == 0) return [];
        var rows = Enumerable.Range(0, units.Count).Select(i => Ablate(units, enc, new HashSet<int> { i }).Ids).ToArray();
        var scores = _encoder.Predict(_model, rows, Options.BatchSize);
        return scores.Select(s => (double)s[orig] - origScores[orig]).ToArray();
    }

    /// <summary>The text and ids with the units at the given indices (into units) removed.</summary>
    private (string Text, int[] Ids) Ablate(List<Unit> units, EncodedText enc, IReadOnlySet<int> remove)
    {
        if (Options.Unit == AblationUnit.Word)
        {
            string text = string.Join(' ', units.Where((_, i) => !remove.Contains(i)).Select(u => u.Text));
            return (text, _encoder.Encode(text).Ids);
        }
        var removePos = remove.Select(i => units[i].Index).ToHashSet();
        var ids = enc.Ids.Where((_, i) => !removePos.Contains(i)).ToArray();
        var kept = Enumerable.Range(0, enc.Length).Where(i => !removePos.Contains(i) && !enc.IsSpecial[i]).Select(i => enc.Ids[i]).ToArray();
        return (_encoder.Tokenizer.Decode(kept), ids);
    }
}
