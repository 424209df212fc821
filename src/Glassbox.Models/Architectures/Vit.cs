// Vision Transformer (Dosovitskiy et al. 2021), as transformers' modeling_vit: the image is cut
// into patch × patch squares, each projected linearly (the checkpoint's stride-p convolution,
// computed as one GEMM over the unfolded patches), a learned [CLS] token is prepended and learned
// position embeddings added; pre-norm encoder blocks, a final LayerNorm, and the classifier reads
// [CLS]. Parameter names are the checkpoint's.
//   x0 = [cls ; W·patches] + pos
//   block:  a = x + Wo·Attention(LN_before(x)) ; y = a + W2·act(W1·LN_after(a))
//   logits = classifier(LN(x_L)[:, 0])
// Hook names are the encoder ones (DESIGN.md): hook_embed is [cls ; patch projections] before the
// position add, hook_pos_embed the position table, blocks.{i}.* as for text encoders, and
// ln_final.hook_normalized after the final LayerNorm. blocks.{i}.hook_resid_post equals
// transformers' hidden_states[i+1] (before the final LayerNorm).
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Architectures;

public enum VitHead { None, ImageClassification }

public sealed class Vit : TransformerModel
{
    private const string P0 = "vit.";

    private readonly VitConfig _c;
    private readonly VitHead _head;
    private readonly BlockHookNames[] _blocks;

    public Vit(VitConfig config, VitHead head, IReadOnlyDictionary<string, Tensor> parameters) : base(parameters)
    {
        _c = config; _head = head;
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ArgumentException($"ViT: hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        if (config.PatchSize <= 0 || config.ImageSize % config.PatchSize != 0)
            throw new ArgumentException($"ViT: image_size {config.ImageSize} is not a multiple of patch_size {config.PatchSize}.");
        _blocks = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BlockHookNames($"blocks.{i}.")).ToArray();
    }

    public VitConfig Config => _c;
    public VitHead Head => _head;
    public override int LayerCount => _c.NumHiddenLayers;
    public override string ArchitectureName => _head == VitHead.ImageClassification ? "ViTForImageClassification" : "ViTModel";

    /// <summary>Patches per image side and in total.</summary>
    public int GridSize => _c.ImageSize / _c.PatchSize;
    public int PatchCount => GridSize * GridSize;

    /// <summary>Parameter names and shapes the architecture expects.</summary>
    public static Dictionary<string, int[]> ExpectedParameters(VitConfig c, VitHead head, int numLabels)
    {
        int h = c.HiddenSize, f = c.IntermediateSize, p = c.PatchSize, n = (c.ImageSize / p) * (c.ImageSize / p);
        var e = new Dictionary<string, int[]>
        {
            [P0 + "embeddings.cls_token"] = [1, 1, h],
            [P0 + "embeddings.position_embeddings"] = [1, n + 1, h],
            [P0 + "embeddings.patch_embeddings.projection.weight"] = [h, c.NumChannels, p, p],
            [P0 + "embeddings.patch_embeddings.projection.bias"] = [h],
        };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"{P0}encoder.layer.{i}.";
            foreach (var name in new[] { "attention.attention.query", "attention.attention.key", "attention.attention.value" })
            {
                e[l + name + ".weight"] = [h, h];
                if (c.QkvBias) e[l + name + ".bias"] = [h];
            }
            e[l + "attention.output.dense.weight"] = [h, h]; e[l + "attention.output.dense.bias"] = [h];
            e[l + "layernorm_before.weight"] = [h]; e[l + "layernorm_before.bias"] = [h];
            e[l + "layernorm_after.weight"] = [h]; e[l + "layernorm_after.bias"] = [h];
            e[l + "intermediate.dense.weight"] = [f, h]; e[l + "intermediate.dense.bias"] = [f];
            e[l + "output.dense.weight"] = [h, f]; e[l + "output.dense.bias"] = [h];
        }
        e[P0 + "layernorm.weight"] = [h]; e[P0 + "layernorm.bias"] = [h];
        if (head == VitHead.ImageClassification) { e["classifier.weight"] = [numLabels, h]; e["classifier.bias"] = [numLabels]; }
        return e;
    }

    public static Vit Load(VitConfig config, VitHead head, Checkpoint checkpoint, bool strict = true)
    {
        var expected = ExpectedParameters(config, head, config.NumLabels);
        var options = new BindingOptions
        {
            Strict = strict,
            BasePrefix = P0,
            // transformers 5 names the same tensors vit.layers.{i}.attention.q_proj, mlp.fc1, ...; read both spellings.
            Renames =
            [
                new(@"^(vit\.)?layers\.(\d+)\.attention\.q_proj\.", "$1encoder.layer.$2.attention.attention.query."),
                new(@"^(vit\.)?layers\.(\d+)\.attention\.k_proj\.", "$1encoder.layer.$2.attention.attention.key."),
                new(@"^(vit\.)?layers\.(\d+)\.attention\.v_proj\.", "$1encoder.layer.$2.attention.attention.value."),
                new(@"^(vit\.)?layers\.(\d+)\.attention\.o_proj\.", "$1encoder.layer.$2.attention.output.dense."),
                new(@"^(vit\.)?layers\.(\d+)\.mlp\.fc1\.", "$1encoder.layer.$2.intermediate.dense."),
                new(@"^(vit\.)?layers\.(\d+)\.mlp\.fc2\.", "$1encoder.layer.$2.output.dense."),
                new(@"^(vit\.)?layers\.(\d+)\.(layernorm_before|layernorm_after)\.", "$1encoder.layer.$2.$3."),
            ],
            IgnoreUnexpected = [.. BindingOptions.DefaultIgnoredUnexpected, @"^vit\.pooler\.", @"^classifier\."],
        };
        return new Vit(config, head, Bind(checkpoint, expected, options));
    }

    /// <summary>ViT reads images, not tokens: use <see cref="Forward(Tensor)"/> with pixel values.</summary>
    public override ModelOutput Forward(ModelInput input) =>
        throw new NotSupportedException($"{ArchitectureName} takes pixel values [batch, {_c.NumChannels}, {_c.ImageSize}, {_c.ImageSize}], not token ids; call Forward(Tensor pixelValues) (see Images.VitImageProcessor).");

    /// <summary>pixel_values [batch, channels, image_size, image_size] (as the image processor makes them).</summary>
    public ModelOutput Forward(Tensor pixelValues)
    {
        int c = _c.NumChannels, size = _c.ImageSize;
        if (pixelValues.Rank != 4 || pixelValues.Shape[1] != c)
            throw new ArgumentException($"{ArchitectureName}: pixel values must be [batch, {c}, height, width]; got {ShapeUtil.Format(pixelValues.Shape)}.");
        if (pixelValues.Shape[2] != size || pixelValues.Shape[3] != size)
            throw new ArgumentException($"{ArchitectureName}: the image is {pixelValues.Shape[2]}×{pixelValues.Shape[3]} but the model takes {size}×{size}; resize it first (VitImageProcessor does).");
        int b = pixelValues.Shape[0], h = _c.HiddenSize;

        var x = Embeddings(pixelValues);
        for (int i = 0; i < _c.NumHiddenLayers; i++)
        {
            using var scope = TensorScope.Enter(); // block intermediates back to the pool (inference)
            x = scope.Keep(Block(i, x));
        }
        var normed = Hooks.Apply("ln_final.hook_normalized", Ops.LayerNorm(x, P(P0 + "layernorm.weight"), P(P0 + "layernorm.bias"), _c.LayerNormEps));

        if (_head == VitHead.ImageClassification)
        {
            var cls = Ops.Reshape(Ops.Narrow(normed, 1, 0, 1), b, h);
            return new ModelOutput { Logits = Ops.Linear(cls, P("classifier.weight"), P("classifier.bias")), LastHiddenState = normed };
        }
        return new ModelOutput { LastHiddenState = normed };
    }

    /// <summary>[b, c, H, W] → [b, (H/p)·(W/p), c·p·p]: each row is one patch flattened in the
    /// (channel, row, column) order of the convolution kernel, patches in raster order.</summary>
    public static Tensor Unfold(Tensor pixels, int patch)
    {
        int b = pixels.Shape[0], c = pixels.Shape[1], gh = pixels.Shape[2] / patch, gw = pixels.Shape[3] / patch;
        var grid = Ops.Reshape(pixels, b, c, gh, patch, gw, patch);
        var patches = Ops.Permute(grid, 0, 2, 4, 1, 3, 5);          // [b, gh, gw, c, p, p]
        return Ops.Reshape(patches, b, gh * gw, c * patch * patch);
    }

    private Tensor Embeddings(Tensor pixels)
    {
        int b = pixels.Shape[0], h = _c.HiddenSize, p = _c.PatchSize;
        // The stride-p convolution is a linear map of each unfolded patch.
        var kernel = Ops.Reshape(P(P0 + "embeddings.patch_embeddings.projection.weight"), h, _c.NumChannels * p * p);
        var patches = Ops.Linear(Unfold(pixels, p), kernel, P(P0 + "embeddings.patch_embeddings.projection.bias")); // [b, n, h]
        var cls = Ops.BroadcastTo(P(P0 + "embeddings.cls_token"), b, 1, h);
        var tokens = Hooks.Apply("hook_embed", Ops.Concat([cls, patches], 1));
        var pos = Hooks.Apply("hook_pos_embed", P(P0 + "embeddings.position_embeddings"));
        return Ops.Add(tokens, pos);
    }

    private Tensor Block(int i, Tensor x)
    {
        var n = _blocks[i];
        string l = $"{P0}encoder.layer.{i}.";
        int heads = _c.NumAttentionHeads, hd = _c.HiddenSize / heads;
        x = Hooks.Apply(n.ResidPre, x);
        var ln1 = Ops.LayerNorm(x, P(l + "layernorm_before.weight"), P(l + "layernorm_before.bias"), _c.LayerNormEps);
        var q = AttentionCore.SplitHeads(Hooks, n.Attn.Q, Ops.Linear(ln1, P(l + "attention.attention.query.weight"), POpt(l + "attention.attention.query.bias")), heads, hd);
        var k = AttentionCore.SplitHeads(Hooks, n.Attn.K, Ops.Linear(ln1, P(l + "attention.attention.key.weight"), POpt(l + "attention.attention.key.bias")), heads, hd);
        var v = AttentionCore.SplitHeads(Hooks, n.Attn.V, Ops.Linear(ln1, P(l + "attention.attention.value.weight"), POpt(l + "attention.attention.value.bias")), heads, hd);
        var z = AttentionCore.Attend(Hooks, n.Attn, q, k, v, bias: null, 1f / MathF.Sqrt(hd));
        var attnOut = Hooks.Apply(n.AttnOut, Ops.Linear(AttentionCore.MergeHeads(z), P(l + "attention.output.dense.weight"), P(l + "attention.output.dense.bias")));
        var mid = Hooks.Apply(n.ResidMid, Ops.Add(attnOut, x));
        var ln2 = Ops.LayerNorm(mid, P(l + "layernorm_after.weight"), P(l + "layernorm_after.bias"), _c.LayerNormEps);
        var pre = Hooks.Apply(n.MlpPre, Ops.Linear(ln2, P(l + "intermediate.dense.weight"), P(l + "intermediate.dense.bias")));
        var post = Hooks.Apply(n.MlpPost, Activations.Apply(_c.HiddenAct, pre));
        var mlpOut = Hooks.Apply(n.MlpOut, Ops.Linear(post, P(l + "output.dense.weight"), P(l + "output.dense.bias")));
        return Hooks.Apply(n.ResidPost, Ops.Add(mlpOut, mid));
    }
}
