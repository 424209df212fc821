// A token-level explainable model (an ONNX export, an HTTP classifier, any IExplainableModel) with its
// tokenizer, seen as a text model with a spec: text and optional pair in, probabilities over its
// output names and the tokens out; gradients exactly when the model supports them. The web app keeps
// the token-level model to run the explainers on tokens (as for built-in models), and uses the spec
// for everything else.
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Extensions;

/// <summary>An <see cref="IExplainableModel"/> classifier and its tokenizer as an <see cref="ITextModel"/>.</summary>
public sealed class TokenizedTextModel : ITextModel
{
    /// <summary>Wraps <paramref name="model"/>; texts are encoded by <paramref name="tokenizer"/> with special tokens and
    /// truncated to <paramref name="maxTokens"/>.</summary>
    public TokenizedTextModel(IExplainableModel model, Tokenizer tokenizer, int maxTokens = 512)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), $"maxTokens must be at least 2, not {maxTokens}.");
        Model = model;
        Tokenizer = tokenizer;
        MaxTokens = maxTokens;
        // Longer texts are cut to what the model takes (longest segment first), keeping the special tokens.
        tokenizer.Truncation ??= new TruncationOptions { MaxLength = maxTokens, Strategy = TruncationStrategy.LongestFirst };
        Spec = new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment(), ["pair"] = FieldType.TextSegment(required: false) },
            new Dictionary<string, FieldType> { ["probabilities"] = FieldType.MulticlassPreds(model.OutputNames), ["tokens"] = FieldType.Tokens() },
            gradients: model.SupportsGradients && model.Hooks is not null);
    }

    /// <summary>The token-level model.</summary>
    public IExplainableModel Model { get; }

    /// <summary>Its tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>Longest encoding fed to the model (longer texts are truncated, longest segment first).</summary>
    public int MaxTokens { get; }

    /// <inheritdoc/>
    public ModelSpec Spec { get; }

    /// <summary>Encodes every input (text, optional pair), runs the model on a right-padded batch and returns
    /// probabilities and tokens.</summary>
    public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) return [];
        var encodings = inputs.Select(x =>
        {
            string pair = x.Text("pair");
            var e = Tokenizer.Encode(x.Text("text"), pair.Length > 0 ? pair : null, addSpecialTokens: true);
            return e;
        }).ToArray();
        int length = Math.Min(MaxTokens, encodings.Max(e => e.Length));
        int pad = Tokenizer.Padding?.PadId ?? Tokenizer.TokenToId("[PAD]") ?? Tokenizer.TokenToId("<pad>") ?? 0;
        int b = inputs.Count;
        var ids = new int[b * length];
        var mask = new int[b * length];
        var types = new int[b * length];
        Array.Fill(ids, pad);
        for (int i = 0; i < b; i++)
        {
            var e = encodings[i];
            int n = Math.Min(length, e.Length);
            for (int j = 0; j < n; j++)
            {
                ids[i * length + j] = e.Ids[j];
                mask[i * length + j] = e.AttentionMask[j];
                types[i * length + j] = e.TypeIds[j];
            }
        }
        float[] scores;
        using (Tape.NoGrad())
        using (var t = Model.Predict(new ModelInput(b, length, ids, mask, types))) scores = t.ToArray();
        int c = Model.OutputNames.Count;
        if (scores.Length != b * c)
            throw new InvalidOperationException($"model '{Model.Name}' returned {scores.Length} scores for {b} inputs and {c} labels.");
        var result = new FieldValues[b];
        for (int i = 0; i < b; i++)
        {
            result[i] = new FieldValues
            {
                ["probabilities"] = scores.AsSpan(i * c, c).ToArray().Select(v => (double)v).ToArray(),
                ["tokens"] = encodings[i].Tokens.Take(length).ToArray(),
            };
        }
        return result;
    }
}
