namespace Glassbox.Models;

/// <summary>A batch of token sequences, padded to one length: the arrays are [batch·seq], row-major.</summary>
public sealed class ModelInput
{
    public ModelInput(int batch, int seqLength, int[] inputIds, int[]? attentionMask = null, int[]? tokenTypeIds = null, int[]? positionIds = null)
    {
        if (batch < 0 || seqLength < 0) throw new ArgumentException($"ModelInput: batch {batch} and sequence length {seqLength} must be ≥ 0.");
        Check(inputIds, "inputIds"); Check(attentionMask, "attentionMask"); Check(tokenTypeIds, "tokenTypeIds"); Check(positionIds, "positionIds");
        Batch = batch; SeqLength = seqLength; InputIds = inputIds; AttentionMask = attentionMask; TokenTypeIds = tokenTypeIds; PositionIds = positionIds;

        void Check(int[]? a, string what)
        {
            if (a is not null && a.Length != batch * seqLength)
                throw new ArgumentException($"ModelInput: {what} has {a.Length} entries; batch {batch} × sequence {seqLength} needs {batch * seqLength}.");
        }
    }

    public int Batch { get; }
    public int SeqLength { get; }
    public int[] InputIds { get; }
    public int[]? AttentionMask { get; }
    public int[]? TokenTypeIds { get; }
    /// <summary>Explicit position ids; null means 0..seq-1 (architecture-specific offsets apply).</summary>
    public int[]? PositionIds { get; }

    /// <summary>True when the caller reads only the task head's outputs (Logits, StartLogits, EndLogits)
    /// and never LastHiddenState. An architecture may then compute its last block only at the
    /// positions its head reads — [CLS] for DistilBERT sequence classification — unless a hook is
    /// installed on one of that block's hook points, which always see every position. The head's
    /// outputs are the same (up to float rounding); LastHiddenState then holds only the positions computed.</summary>
    public bool HeadOnly { get; init; }

    /// <summary>This input with <see cref="HeadOnly"/> set.</summary>
    public ModelInput AsHeadOnly() => HeadOnly ? this : new ModelInput(Batch, SeqLength, InputIds, AttentionMask, TokenTypeIds, PositionIds) { HeadOnly = true };

    public static ModelInput Single(int[] ids, int[]? tokenTypeIds = null) => new(1, ids.Length, ids, Enumerable.Repeat(1, ids.Length).ToArray(), tokenTypeIds);

    /// <summary>Builds a padded batch from ragged rows (right or left padding).</summary>
    public static ModelInput Pad(IReadOnlyList<int[]> rows, int padId, bool padLeft = false, IReadOnlyList<int[]>? typeIds = null)
    {
        int b = rows.Count, s = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        var ids = new int[b * s]; var mask = new int[b * s]; var types = typeIds is null ? null : new int[b * s];
        for (int i = 0; i < b; i++)
        {
            int n = rows[i].Length, off = padLeft ? s - n : 0;
            for (int j = 0; j < s; j++) ids[i * s + j] = padId;
            for (int j = 0; j < n; j++)
            {
                ids[i * s + off + j] = rows[i][j];
                mask[i * s + off + j] = 1;
                if (types is not null) types[i * s + off + j] = typeIds![i][j];
            }
        }
        return new ModelInput(b, s, ids, mask, types);
    }

    /// <summary>Position ids 0..seq-1 for every row.</summary>
    public int[] DefaultPositions(int offset = 0)
    {
        var p = new int[Batch * SeqLength];
        for (int b = 0; b < Batch; b++)
            for (int s = 0; s < SeqLength; s++) p[b * SeqLength + s] = s + offset;
        return p;
    }
}
