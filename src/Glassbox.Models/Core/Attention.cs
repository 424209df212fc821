// Scaled dot-product attention with the hook points every architecture shares. Callers project
// q/k/v, split heads (hook_q/k/v see [batch, pos, head, d_head]), apply any rotary embedding, then
// call Attend, which adds the bias, softmaxes (hook_scores, hook_pattern) and returns hook_z as
// [batch, pos, head, d_head].
using Glassbox.Tensors;

namespace Glassbox.Models;

/// <summary>Precomputed hook names of one attention module (e.g. "blocks.3.attn.").</summary>
public sealed class AttentionHookNames(string prefix)
{
    public string Q { get; } = prefix + "hook_q";
    public string K { get; } = prefix + "hook_k";
    public string V { get; } = prefix + "hook_v";
    public string Scores { get; } = prefix + "hook_scores";
    public string Pattern { get; } = prefix + "hook_pattern";
    public string Z { get; } = prefix + "hook_z";
}

/// <summary>Precomputed hook names of one transformer block ("blocks.{i}." or "encoder.blocks.{i}.").</summary>
public sealed class BlockHookNames(string prefix)
{
    public string ResidPre { get; } = prefix + "hook_resid_pre";
    public string AttnOut { get; } = prefix + "hook_attn_out";
    public string ResidMid { get; } = prefix + "hook_resid_mid";
    public string MlpPre { get; } = prefix + "mlp.hook_pre";
    public string MlpPost { get; } = prefix + "mlp.hook_post";
    public string MlpOut { get; } = prefix + "hook_mlp_out";
    public string ResidPost { get; } = prefix + "hook_resid_post";
    public AttentionHookNames Attn { get; } = new(prefix + "attn.");
    public AttentionHookNames CrossAttn { get; } = new(prefix + "cross_attn.");
    public string CrossAttnOut { get; } = prefix + "hook_cross_attn_out";
    public string ResidMid2 { get; } = prefix + "hook_resid_mid2";
}

public static class AttentionCore
{
    /// <summary>[b, s, heads·d] → hook([b, s, heads, d]) → [b, heads, s, d].</summary>
    public static Tensor SplitHeads(HookSet hooks, string hookName, Tensor x, int heads, int headDim)
    {
        int b = x.Shape[0], s = x.Shape[1];
        using var r = Ops.Reshape(x, b, s, heads, headDim);
        var h = hooks.Apply(hookName, r);
        return Ops.Permute(h, 0, 2, 1, 3);
    }

    /// <summary>softmax(q·kᵀ·scale + bias)·v. q [b, h, sq, d]; k, v [b, kvHeads, sk, d] (grouped-query
    /// attention repeats each kv head h/kvHeads times); bias broadcastable to [b, h, sq, sk].
    /// Returns z as [b, sq, h, d] (after hook_z).</summary>
    public static Tensor Attend(HookSet hooks, AttentionHookNames names, Tensor q, Tensor k, Tensor v, Tensor? bias, float scale)
    {
        int heads = q.Shape[1], kvHeads = k.Shape[1];
        if (heads != kvHeads)
        {
            if (heads % kvHeads != 0) throw new ArgumentException($"Attend: {heads} query heads are not a multiple of {kvHeads} key/value heads.");
            int g = heads / kvHeads;
            var idx = Enumerable.Range(0, heads).Select(i => i / g).ToArray();
            k = Ops.IndexSelect(k, 1, idx);
            v = Ops.IndexSelect(v, 1, idx);
        }
        var scores = Ops.MatMul(q, k, transB: true);
        if (scale != 1f) scores = Ops.Mul(scores, scale);
        if (bias is not null) scores = Ops.Add(scores, bias);
        scores = hooks.Apply(names.Scores, scores);
        var pattern = hooks.Apply(names.Pattern, Ops.Softmax(scores, -1));
        var z = Ops.MatMul(pattern, v);                  // [b, h, sq, d]
        return hooks.Apply(names.Z, Ops.Permute(z, 0, 2, 1, 3));
    }

    /// <summary>[b, s, h, d] → [b, s, h·d].</summary>
    public static Tensor MergeHeads(Tensor z) => Ops.Reshape(z, z.Shape[0], z.Shape[1], z.Shape[2] * z.Shape[3]);
}
