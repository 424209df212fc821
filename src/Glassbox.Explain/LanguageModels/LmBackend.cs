// One face for the two kinds of language model the analysis supports. A causal LM (GPT-2,
// GPT-NeoX, Llama) sees one token sequence; a seq2seq LM (T5) sees the encoder's tokens and the
// decoder's (decoder start token first), and its decoder-side hook names carry "decoder.".
// Attributions flow into the token embeddings — hook_embed, Ecco's inputs_embeds (for T5 both
// encoder.hook_embed and decoder.hook_embed, as Ecco passes inputs_embeds and
// decoder_inputs_embeds) — and the output scored is the softmax over the vocabulary at the last
// position, Ecco's forward function.
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Explain.LanguageModels;

internal abstract class LmBackend
{
    public static LmBackend For(ILanguageModel model) => model switch
    {
        ICausalLanguageModel c => new CausalBackend(c),
        ISeq2SeqLanguageModel s => new Seq2SeqBackend(s),
        null => throw new ArgumentNullException(nameof(model)),
        _ => throw new NotSupportedException($"Language-model analysis needs a causal or seq2seq language model; {model.GetType().Name} is neither."),
    };

    public abstract ILanguageModel Model { get; }
    public HookSet Hooks => Model.Hooks;
    public int VocabSize => Model.VocabSize;
    public abstract bool IsSeq2Seq { get; }
    public abstract int DecoderLayers { get; }
    /// <summary>0 for causal models.</summary>
    public abstract int EncoderLayers { get; }
    /// <summary>Position limit of the (decoder) sequence, or null when the model has none (relative positions).</summary>
    public abstract int? MaxPositions { get; }
    /// <summary>Embedding hook of each input sequence (causal: one; seq2seq: encoder then decoder).</summary>
    public abstract string[] EmbedHooks { get; }
    /// <summary>"" or "decoder.": prefix of the decoder-side block hooks.</summary>
    public abstract string DecoderPrefix { get; }
    /// <summary>The hook after the decoder's final norm (transformers' last hidden state).</summary>
    public string FinalNormHook => DecoderPrefix + "ln_final.hook_normalized";

    public abstract GenerationResult Generate(int[] promptIds, GenerationOptions options);

    /// <summary>Softmax over the vocabulary at the last position, [batch, vocab], for `batch` copies of
    /// the inputs (causal: [sequence]; seq2seq: [encoder ids, decoder ids]). No attention mask, as Ecco's
    /// attribution forward passes none. Records on the current tape, if any.</summary>
    public abstract Tensor LastProbabilities(int batch, int[][] inputs);

    /// <summary>One forward pass over the inputs (batch 1): logits [1, (decoder) seq, vocab]; hooks observe it.</summary>
    public abstract Tensor ForwardLogits(int[][] inputs);

    /// <summary>The LM head on hidden states [n, hidden]: the model's own unembedding after its final
    /// norm (normalize = true), or the bare head as Ecco's lm_head(hidden state) (normalize = false;
    /// T5's head is then unscaled, as its lm_head module is).</summary>
    public abstract Tensor Head(Tensor hidden, bool normalize);

    protected static int[] Repeat(int[] ids, int times)
    {
        var r = new int[ids.Length * times];
        for (int i = 0; i < times; i++) ids.CopyTo(r, i * ids.Length);
        return r;
    }

    protected static Tensor LastRowSoftmax(Tensor logits, int batch)
    {
        int s = logits.Shape[1], v = logits.Shape[2];
        var last = s == 1 ? logits : Ops.Narrow(logits, 1, s - 1, 1);
        return Ops.Softmax(Ops.Reshape(last, batch, v), -1);
    }

    private sealed class CausalBackend(ICausalLanguageModel model) : LmBackend
    {
        public override ILanguageModel Model => model;
        public override bool IsSeq2Seq => false;
        public override int DecoderLayers => model.LayerCount;
        public override int EncoderLayers => 0;
        public override int? MaxPositions => model.MaxPositions;
        public override string[] EmbedHooks { get; } = ["hook_embed"];
        public override string DecoderPrefix => "";

        public override GenerationResult Generate(int[] promptIds, GenerationOptions options) => Generator.Generate(model, promptIds, options);

        public override Tensor LastProbabilities(int batch, int[][] inputs)
        {
            var seq = inputs[0];
            var input = new ModelInput(batch, seq.Length, Repeat(seq, batch));
            var logits = model is ILastTokenLogits last ? last.ForwardLastLogits(input) : model.ForwardLogits(input);
            return LastRowSoftmax(logits, batch);
        }

        public override Tensor ForwardLogits(int[][] inputs) => model.ForwardLogits(ModelInput.Single(inputs[0]));

        public override Tensor Head(Tensor hidden, bool normalize) => model.Unembed(hidden, withFinalNorm: normalize);
    }

    private sealed class Seq2SeqBackend(ISeq2SeqLanguageModel model) : LmBackend
    {
        public override ILanguageModel Model => model;
        public override bool IsSeq2Seq => true;
        public override int DecoderLayers => model is T5 t5 ? t5.DecoderLayerCount : model.LayerCount;
        public override int EncoderLayers => model.LayerCount;
        public override int? MaxPositions => null;
        public override string[] EmbedHooks { get; } = ["encoder.hook_embed", "decoder.hook_embed"];
        public override string DecoderPrefix => "decoder.";

        public override GenerationResult Generate(int[] promptIds, GenerationOptions options) => Generator.Generate(model, promptIds, options);

        public override Tensor LastProbabilities(int batch, int[][] inputs)
        {
            int[] src = inputs[0], tgt = inputs[1];
            var encoded = model.Encode(new ModelInput(batch, src.Length, Repeat(src, batch)));
            var logits = model.DecodeLogits(encoded, null, new ModelInput(batch, tgt.Length, Repeat(tgt, batch)));
            return LastRowSoftmax(logits, batch);
        }

        public override Tensor ForwardLogits(int[][] inputs)
        {
            var encoded = model.Encode(ModelInput.Single(inputs[0]));
            return model.DecodeLogits(encoded, null, ModelInput.Single(inputs[1]));
        }

        public override Tensor Head(Tensor hidden, bool normalize)
        {
            if (model is not T5 t5)
                throw new NotSupportedException($"Logit lens: {model.GetType().Name} does not expose its unembedding; only T5 among seq2seq models does.");
            if (normalize) return t5.Unembed(hidden, withFinalNorm: true);
            var weight = t5.Parameters.TryGetValue("lm_head.weight", out var w) ? w : t5.TokenEmbeddings;
            return Ops.Linear(hidden, weight);
        }
    }
}
