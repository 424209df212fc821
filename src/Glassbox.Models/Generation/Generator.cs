// Autoregressive generation for causal and seq2seq language models, as transformers' generate():
// the prompt is run once, then one token per step (with a KvCache, only the new token goes
// through the model; without, the whole sequence is re-run — same tokens and probabilities).
// Every step reports the model's own next-token distribution (softmax of the raw logits: what
// Ecco shows) as top-k ids/probabilities and, on request, in full; the token is chosen from the
// processed scores (repetition penalty, then temperature/top-k/top-p when sampling).
//
// A batch of prompts is left-padded, and position ids come from the attention-mask cumsum (pad
// positions get 1), as transformers' generate computes them, so a prompt generates the same
// tokens alone and in a batch. As in transformers, the repetition penalty sees the padded row
// (pad ids included).
using Glassbox.Tensors;

namespace Glassbox.Models.Generation;

public static class Generator
{
    /// <summary>Generates a continuation of one prompt.</summary>
    public static GenerationResult Generate(ICausalLanguageModel model, int[] promptIds, GenerationOptions? options = null)
        => GenerateBatch(model, [promptIds], options)[0];

    /// <summary>Generates continuations of several prompts in one left-padded batch; results are
    /// per prompt, in order.</summary>
    public static IReadOnlyList<GenerationResult> GenerateBatch(ICausalLanguageModel model, IReadOnlyList<int[]> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        options ??= new GenerationOptions();
        options.Validate();
        if (prompts.Count == 0) return [];
        for (int r = 0; r < prompts.Count; r++)
            if (prompts[r] is null || prompts[r].Length == 0)
                throw new ArgumentException($"Generate: prompt {r} is empty; give at least one token (e.g. the BOS id).");
        var eos = options.EosTokenIds ?? model.EosTokenIds;
        int pad = options.PadTokenId ?? model.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);
        var stepper = new CausalStepper(model, prompts, pad, options.UseCache);
        return Loop(stepper, prompts, model.VocabSize, eos, options);
    }

    /// <summary>Generates a target sequence for one encoder input: the encoder runs once, the decoder
    /// starts from DecoderStartTokenId.</summary>
    public static GenerationResult Generate(ISeq2SeqLanguageModel model, int[] encoderIds, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoderIds);
        options ??= new GenerationOptions();
        options.Validate();
        if (encoderIds.Length == 0) throw new ArgumentException("Generate: the encoder input is empty.");
        var eos = options.EosTokenIds ?? model.EosTokenIds;
        var stepper = new Seq2SeqStepper(model, encoderIds, options.UseCache);
        return Loop(stepper, [encoderIds], model.VocabSize, eos, options)[0];
    }

    private interface IStepper
    {
        /// <summary>Next-token logits per row after the prompt.</summary>
        float[][] Start();
        /// <summary>Appends one token per row and returns the next logits.</summary>
        float[][] Advance(int[] tokens);
        /// <summary>False when one more token would exceed the model's position limit.</summary>
        bool CanAdvance { get; }
        /// <summary>The ids the repetition penalty looks at, per row (transformers' input_ids).</summary>
        IReadOnlyList<int> History(int row);
    }

    private static GenerationResult[] Loop(IStepper stepper, IReadOnlyList<int[]> prompts, int vocab, IReadOnlyList<int> eos, GenerationOptions o)
    {
        int b = prompts.Count;
        var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var steps = Enumerable.Range(0, b).Select(_ => new List<GenerationStep>()).ToArray();
        var finish = new FinishReason?[b];
        var rng = o.DoSample ? (o.Seed is int seed ? new Random(seed) : new Random()) : null;
        var eosSet = eos.ToHashSet();
        var stopSet = o.StopTokenIds.ToHashSet();

        if (o.MaxNewTokens > 0)
        {
            var logits = stepper.Start();
            for (int t = 0; ; t++)
            {
                var next = new int[b];
                for (int r = 0; r < b; r++)
                {
                    if (finish[r] is not null) { next[r] = generated[r].Count > 0 ? generated[r][^1] : 0; continue; }
                    var raw = logits[r];
                    if (raw.Length != vocab)
                        throw new InvalidOperationException($"Generate: the model returned {raw.Length} logits per position but reports a vocabulary of {vocab}.");
                    var probs = LogitProcessors.Softmax(raw);
                    int tok = Choose(raw, stepper.History(r), o, rng);
                    var (topIds, topProbs) = Top(probs, Math.Min(o.ReportTopK, vocab));
                    steps[r].Add(new GenerationStep
                    {
                        TokenId = tok,
                        Probability = (float)probs[tok],
                        TopIds = topIds,
                        TopProbabilities = topProbs,
                        Probabilities = o.ReturnProbabilities ? Array.ConvertAll(probs, p => (float)p) : null,
                    });
                    generated[r].Add(tok);
                    next[r] = tok;
                    if (eosSet.Contains(tok)) finish[r] = FinishReason.EndOfSequence;
                    else if (stopSet.Contains(tok)) finish[r] = FinishReason.StopToken;
                    else if (generated[r].Count >= o.MaxNewTokens) finish[r] = FinishReason.MaxNewTokens;
                }
                if (finish.All(f => f is not null)) break;
                if (!stepper.CanAdvance)
                {
                    for (int r = 0; r < b; r++) finish[r] ??= FinishReason.MaxPositions;
                    break;
                }
                logits = stepper.Advance(next);
            }
        }
        return [.. Enumerable.Range(0, b).Select(r => new GenerationResult
        {
            PromptIds = [.. prompts[r]],
            GeneratedIds = [.. generated[r]],
            Steps = steps[r],
            FinishReason = finish[r] ?? FinishReason.MaxNewTokens,
        })];
    }

    private static int Choose(float[] raw, IReadOnlyList<int> history, GenerationOptions o, Random? rng)
    {
        var scores = (float[])raw.Clone();
        LogitProcessors.RepetitionPenalty(scores, history, o.RepetitionPenalty);
        if (!o.DoSample) return ArgMax(scores);
        LogitProcessors.Temperature(scores, o.Temperature);
        LogitProcessors.TopK(scores, o.TopK);
        LogitProcessors.TopP(scores, o.TopP);
        var p = LogitProcessors.Softmax(scores);
        double u = rng!.NextDouble(), cum = 0;
        int last = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0) continue;
            last = i;
            cum += p[i];
            if (u < cum) return i;
        }
        return last; // rounding: u ≥ the accumulated total
    }

    /// <summary>First index of the maximum (torch.argmax's choice among ties).</summary>
    private static int ArgMax(float[] s)
    {
        int best = 0;
        for (int i = 1; i < s.Length; i++) if (s[i] > s[best]) best = i;
        return best;
    }

    /// <summary>The k largest probabilities, descending; ties by lower id.</summary>
    private static (int[] Ids, float[] Probs) Top(double[] p, int k)
    {
        var ids = new int[k];
        var vals = new double[k];
        int n = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double v = p[i];
            if (n == k && (k == 0 || v <= vals[k - 1])) continue;
            int j = n < k ? n++ : k - 1;
            while (j > 0 && vals[j - 1] < v) { vals[j] = vals[j - 1]; ids[j] = ids[j - 1]; j--; }
            vals[j] = v; ids[j] = i;
        }
        return (ids, Array.ConvertAll(vals, v => (float)v));
    }

    /// <summary>Rows of the last position: logits [b, s, vocab] → b arrays of vocab.</summary>
    private static float[][] LastRows(Tensor logits)
    {
        int b = logits.Shape[0], s = logits.Shape[1], v = logits.Shape[2];
        var rows = new float[b][];
        var L = logits.Span;
        for (int r = 0; r < b; r++) rows[r] = L.Slice((r * s + s - 1) * v, v).ToArray();
        return rows;
    }

    private sealed class CausalStepper : IStepper
    {
        private readonly ICausalLanguageModel _model;
        private readonly int _b;
        private readonly List<int>[] _ids, _mask;
        private readonly KvCache? _cache;

        public CausalStepper(ICausalLanguageModel model, IReadOnlyList<int[]> prompts, int pad, bool useCache)
        {
            _model = model; _b = prompts.Count;
            int s = prompts.Max(p => p.Length);
            _ids = new List<int>[_b]; _mask = new List<int>[_b];
            for (int r = 0; r < _b; r++)
            {
                int padCount = s - prompts[r].Length;
                _ids[r] = [.. Enumerable.Repeat(pad, padCount), .. prompts[r]];
                _mask[r] = [.. Enumerable.Repeat(0, padCount), .. Enumerable.Repeat(1, prompts[r].Length)];
            }
            _cache = useCache ? new KvCache() : null;
        }

        private int Length => _ids[0].Count;
        public bool CanAdvance => Length + 1 <= _model.MaxPositions;
        public IReadOnlyList<int> History(int row) => _ids[row];

        public float[][] Start() => Run(0);

        public float[][] Advance(int[] tokens)
        {
            int from = Length;
            for (int r = 0; r < _b; r++) { _ids[r].Add(tokens[r]); _mask[r].Add(1); }
            return Run(_cache is null ? 0 : from);
        }

        /// <summary>Runs positions [from, Length) (all of them without a cache).</summary>
        private float[][] Run(int from)
        {
            int s = Length - from;
            var ids = new int[_b * s]; var mask = new int[_b * s]; var pos = new int[_b * s];
            for (int r = 0; r < _b; r++)
            {
                int c = 0;
                for (int j = 0; j < Length; j++)
                {
                    c += _mask[r][j];
                    if (j < from) continue;
                    int at = r * s + j - from;
                    ids[at] = _ids[r][j];
                    mask[at] = _mask[r][j];
                    pos[at] = _mask[r][j] == 0 ? 1 : c - 1; // cumsum − 1, pads → 1
                }
            }
            var input = new ModelInput(_b, s, ids, mask, positionIds: pos);
            using var logits = _model is ILastTokenLogits last ? last.ForwardLastLogits(input, _cache) : _model.ForwardLogits(input, _cache);
            return LastRows(logits);
        }
    }

    private sealed class Seq2SeqStepper : IStepper
    {
        private readonly ISeq2SeqLanguageModel _model;
        private readonly Tensor _encoded;
        private readonly int[] _encoderMask;
        private readonly List<int> _decoder;
        private readonly KvCache? _cache;

        public Seq2SeqStepper(ISeq2SeqLanguageModel model, int[] encoderIds, bool useCache)
        {
            _model = model;
            var input = ModelInput.Single(encoderIds);
            _encoderMask = input.AttentionMask!;
            _encoded = model.Encode(input);
            _decoder = [model.DecoderStartTokenId];
            _cache = useCache ? new KvCache() : null;
        }

        public bool CanAdvance => true;
        public IReadOnlyList<int> History(int row) => _decoder;

        public float[][] Start() => Run(0);

        public float[][] Advance(int[] tokens)
        {
            int from = _decoder.Count;
            _decoder.Add(tokens[0]);
            return Run(_cache is null ? 0 : from);
        }

        private float[][] Run(int from)
        {
            var ids = _decoder.Skip(from).ToArray();
            using var logits = _model.DecodeLogits(_encoded, _encoderMask, new ModelInput(1, ids.Length, ids), _cache);
            return LastRows(logits);
        }
    }
}
