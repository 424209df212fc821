// The bookkeeping every decoder-only forward pass shares, kept out of the architecture files so
// they read like the papers: where the new tokens sit (positions continue from the cache unless
// the caller gives position ids, as generate does from the attention-mask cumsum under left
// padding), the additive causal + padding bias over cached and new keys, the position limit, and
// appending each layer's keys/values to the KvCache.
//
// With a cache, ModelInput holds only the new tokens and its AttentionMask (if any) covers only
// them; the mask of the cached positions is remembered in the cache (key "attention_mask") so the
// bias spans every key. A cache that never saw a mask treats its positions as real tokens.
using Glassbox.Tensors;

namespace Glassbox.Models.Generation;

internal sealed class CausalStep
{
    /// <summary>KvCache key under which the 0/1 mask of the cached positions is kept ([batch, length]).</summary>
    public const string MaskKey = "attention_mask";

    private readonly KvCache? _cache;

    public int Batch { get; }
    public int Seq { get; }
    /// <summary>Positions already in the cache.</summary>
    public int Past { get; }
    /// <summary>Position id of every new token, [batch·seq].</summary>
    public int[] Positions { get; }
    /// <summary>[batch, 1, seq, past+seq] additive bias, or null when nothing is masked (one new token, no padding).</summary>
    public Tensor? Bias { get; }

    private readonly float[]? _fullMask; // [batch, past+seq] or null (all keys valid)

    private CausalStep(int batch, int seq, int past, int[] positions, Tensor? bias, float[]? fullMask, KvCache? cache)
    {
        Batch = batch; Seq = seq; Past = past; Positions = positions; Bias = bias; _fullMask = fullMask; _cache = cache;
    }

    /// <param name="architecture">Named in errors, e.g. "GPT2LMHeadModel".</param>
    /// <param name="limitName">The config key of the position limit, e.g. "n_positions".</param>
    public static CausalStep Begin(string architecture, ModelInput input, KvCache? cache, int maxPositions, string limitName)
    {
        int b = input.Batch, s = input.SeqLength;
        if (s == 0) throw new ArgumentException($"{architecture}: the input has no tokens.");
        int past = cache?.Length ?? 0;
        Tensor? pastMask = null;
        if (cache is not null && past > 0)
        {
            if (cache.TryGet(MaskKey, out var pm))
            {
                if (pm.Shape[0] != b || pm.Shape[1] != past)
                    throw new ArgumentException($"{architecture}: the cache holds {pm.Shape[0]} sequences of {pm.Shape[1]} positions, but the input has batch {b} and the cache length is {past}.");
                pastMask = pm;
            }
            if (cache.TryGet("blocks.0.k", out var k0) && k0.Shape[0] != b)
                throw new ArgumentException($"{architecture}: the cache was filled with batch {k0.Shape[0]}, the input has batch {b}.");
        }

        if (past + s > maxPositions)
            throw new ArgumentException(past == 0
                ? $"{architecture}: the input has {s} tokens but {limitName} is {maxPositions}; truncate the prompt to at most {maxPositions} tokens (e.g. --max-length {maxPositions})."
                : $"{architecture}: {past} cached + {s} new tokens exceed {limitName} = {maxPositions}; truncate the prompt or ask for fewer new tokens (--max-new-tokens) so that prompt + new tokens ≤ {maxPositions}.");

        var positions = input.PositionIds ?? input.DefaultPositions(past);
        foreach (int p in positions)
            if (p < 0 || p >= maxPositions)
                throw new ArgumentException($"{architecture}: position id {p} is outside [0, {maxPositions}) ({limitName} is {maxPositions}); truncate the input (e.g. --max-length {maxPositions}).");

        // The mask over every key: cached part (remembered) then the new tokens' part.
        int total = past + s;
        float[]? full = null;
        if (pastMask is not null || input.AttentionMask is not null)
        {
            full = new float[b * total];
            for (int i = 0; i < b; i++)
            {
                for (int j = 0; j < past; j++) full[i * total + j] = pastMask is null ? 1f : pastMask.Span[i * past + j];
                for (int j = 0; j < s; j++) full[i * total + past + j] = input.AttentionMask is null ? 1f : input.AttentionMask[i * s + j] != 0 ? 1f : 0f;
            }
        }
        bool anyMasked = full is not null && Array.IndexOf(full, 0f) >= 0;
        Tensor? bias = null;
        if (s > 1 || anyMasked)
        {
            int[] keyMask = anyMasked ? [.. full!.Select(v => v != 0f ? 1 : 0)] : [];
            bias = Ops.AttentionBias(keyMask, b, s, total, causal: true, pastLength: past);
        }
        return new CausalStep(b, s, past, positions, bias, full, cache);
    }

    /// <summary>Keys/values of all positions for one layer: the cached ones followed by the new
    /// ones (k, v: [batch, kvHeads, seq, headDim]); the cache, if any, now holds them all.</summary>
    public (Tensor K, Tensor V) Extend(int layer, Tensor k, Tensor v)
    {
        if (_cache is null) return (k, v);
        string kk = $"blocks.{layer}.k", vk = $"blocks.{layer}.v";
        if (Past > 0)
        {
            if (!_cache.TryGet(kk, out var pk) || !_cache.TryGet(vk, out var pv))
                throw new InvalidOperationException($"KvCache has length {Past} but no keys/values for layer {layer}; use a fresh KvCache per sequence and model.");
            k = Ops.Concat([pk, k], 2);
            v = Ops.Concat([pv, v], 2);
        }
        _cache.Set(kk, k);
        _cache.Set(vk, v);
        return (k, v);
    }

    /// <summary>Records the new tokens in the cache (length and mask). Call once, after the last layer.</summary>
    public void Commit()
    {
        if (_cache is null) return;
        _cache.Length = Past + Seq;
        if (_fullMask is not null) _cache.Set(MaskKey, Tensor.FromArray(_fullMask, Batch, Past + Seq));
    }
}

/// <summary>attn.hook_rot_q / attn.hook_rot_k: queries and keys after the rotary embedding, seen
/// as [batch, pos, head, d_head] like hook_q/hook_k (rotary models only).</summary>
internal sealed class RotaryHookNames(string attnPrefix)
{
    public string RotQ { get; } = attnPrefix + "hook_rot_q";
    public string RotK { get; } = attnPrefix + "hook_rot_k";

    /// <summary>x is [b, heads, s, d]; the hook sees [b, s, heads, d].</summary>
    public static Tensor Apply(HookSet hooks, string name, Tensor x)
    {
        if (!hooks.Any) return x;
        var seen = hooks.Apply(name, Ops.Permute(x, 0, 2, 1, 3));
        return Ops.Permute(seen, 0, 2, 1, 3);
    }
}
