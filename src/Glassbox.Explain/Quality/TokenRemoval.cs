// Turns keep masks into model inputs and scores them: the KeepMaskScorer the faithfulness metrics
// run on, for any explainable model (black boxes included: only Predict is called, with no tape).
// Delete closes the sequence up (ids and token types of the kept tokens, positions renumbered
// 0..m−1 when the input carries explicit positions); Mask and Pad swap the id and leave
// everything else as it was. Special tokens always stay. Inputs of equal length share a batch.
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Quality;

public sealed class TokenRemoval
{
    private readonly IExplainableModel _model;
    private readonly ModelInput _input;
    private readonly bool[] _special;
    private readonly int _target, _replacementId, _batchSize;

    /// <param name="model">The model whose target probability is read.</param>
    /// <param name="input">One example (batch 1) exactly as the explanation was computed on.</param>
    /// <param name="special">Special tokens ([CLS], [SEP], ...), which are never removed.</param>
    /// <param name="target">The output column (class) whose score is reported.</param>
    /// <param name="mode">How removed tokens leave the input.</param>
    /// <param name="replacementId">The id swapped in by Mask and Pad (ignored by Delete).</param>
    /// <param name="batchSize">Inputs per forward pass.</param>
    public TokenRemoval(IExplainableModel model, ModelInput input, IReadOnlyList<bool> special, int target, RemovalMode mode, int replacementId = -1, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model); ArgumentNullException.ThrowIfNull(input); ArgumentNullException.ThrowIfNull(special);
        if (input.Batch != 1) throw new ArgumentException($"TokenRemoval takes one example (batch 1), got batch {input.Batch}.");
        if (special.Count != input.SeqLength) throw new ArgumentException($"TokenRemoval: {special.Count} special-token flags for {input.SeqLength} tokens.");
        if (mode != RemovalMode.Delete && replacementId < 0)
            throw new ArgumentException($"Removal by {mode} needs the id of the {(mode == RemovalMode.Mask ? "mask" : "pad")} token; this tokenizer has none, so use removal by deletion.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batchSize must be at least 1, got {batchSize}.");
        _model = model; _input = input; _special = [.. special]; _target = target; Mode = mode; _replacementId = replacementId; _batchSize = batchSize;
    }

    public RemovalMode Mode { get; }

    /// <summary>This object's Score as the delegate the faithfulness metrics take.</summary>
    public KeepMaskScorer Scorer => Score;

    /// <summary>The target's score for each keep mask.</summary>
    public double[] Score(IReadOnlyList<bool[]> keepMasks)
    {
        ArgumentNullException.ThrowIfNull(keepMasks);
        var rows = keepMasks.Select(Build).ToList();
        var result = new double[rows.Count];
        using var _ = Tape.NoGrad();
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].Ids.Length))
        {
            var members = group.ToArray();
            for (int start = 0; start < members.Length; start += _batchSize)
            {
                var chunk = members.Skip(start).Take(_batchSize).ToArray();
                int s = group.Key, b = chunk.Length;
                var ids = new int[b * s]; var mask = new int[b * s];
                var types = _input.TokenTypeIds is null ? null : new int[b * s];
                var pos = _input.PositionIds is null ? null : new int[b * s];
                for (int r = 0; r < b; r++)
                {
                    var row = rows[chunk[r]];
                    row.Ids.CopyTo(ids, r * s);
                    row.Mask.CopyTo(mask, r * s);
                    row.Types?.CopyTo(types!, r * s);
                    row.Positions?.CopyTo(pos!, r * s);
                }
                var scores = _model.Predict(new ModelInput(b, s, ids, mask, types, pos));
                ModelChecks.CheckTarget(_model, _target, scores);
                int k = scores.Shape[^1];
                for (int r = 0; r < b; r++) result[chunk[r]] = scores.Span[r * k + _target];
            }
        }
        return result;
    }

    private sealed record Row(int[] Ids, int[] Mask, int[]? Types, int[]? Positions);

    private Row Build(bool[] keep)
    {
        int n = _input.SeqLength;
        if (keep is null || keep.Length != n) throw new ArgumentException($"A keep mask must have one entry per token ({n}), got {keep?.Length ?? 0}.");
        var ids = _input.InputIds; var types = _input.TokenTypeIds; var pos = _input.PositionIds;
        var mask = _input.AttentionMask ?? Enumerable.Repeat(1, n).ToArray();
        if (Mode == RemovalMode.Delete)
        {
            var kept = Enumerable.Range(0, n).Where(i => keep[i] || _special[i]).ToArray();
            return new Row(kept.Select(i => ids[i]).ToArray(), kept.Select(i => mask[i]).ToArray(),
                types is null ? null : kept.Select(i => types[i]).ToArray(),
                pos is null ? null : Enumerable.Range(0, kept.Length).ToArray());
        }
        var swapped = (int[])ids.Clone();
        for (int i = 0; i < n; i++) if (!keep[i] && !_special[i]) swapped[i] = _replacementId;
        return new Row(swapped, mask, types, pos);
    }
}
