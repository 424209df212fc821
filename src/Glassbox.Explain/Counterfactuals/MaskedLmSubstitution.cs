// Masked-LM substitution: each word of the text (the tokenizer's words, so punctuation is its own
// word for BERT) is replaced by one mask token, the masked language model scores every vocabulary
// token at that position, and the TopK most probable fillers each give one counterfactual with that
// word replaced. Fillers that would not stand alone as a word are skipped: placeholders ([CLS],
// [unused0], <mask>), subword continuations (## pieces) unless allowed, and the original word
// itself (compared case-insensitively). Any Glassbox masked LM works (BertForMaskedLM,
// DistilBertForMaskedLM, RobertaForMaskedLM loaded with AutoModel).
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Counterfactuals;

public sealed class MaskedLmOptions
{
    /// <summary>Fillers per word.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>The mask token; default [MASK], else &lt;mask&gt;.</summary>
    public string? MaskToken { get; init; }
    /// <summary>Allow "##ing"-style continuation pieces as fillers.</summary>
    public bool AllowSubwordFillers { get; init; }
    /// <summary>Words never masked.</summary>
    public IReadOnlyCollection<string> WordsToIgnore { get; init; } = [];
    public int BatchSize { get; init; } = 16;
}

/// <summary>One masked word's best fillers: vocabulary ids and probabilities from the masked LM.</summary>
public sealed record MaskedLmFillers(int WordIndex, string Word, int CharStart, int CharEnd, int[] MaskedIds, int MaskPosition, int[] FillerIds, string[] Fillers, double[] Probabilities);

/// <summary>Replaces each word by the masked LM's most probable fillers.</summary>
public sealed class MaskedLmSubstitution
{
    public const string Name = "mlm-substitution";

    private readonly TransformerModel _mlm;
    private readonly TextEncoder _encoder;
    private readonly int _maskId;
    public MaskedLmOptions Options { get; }

    public MaskedLmSubstitution(TransformerModel maskedLm, TextEncoder encoder, MaskedLmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(maskedLm);
        ArgumentNullException.ThrowIfNull(encoder);
        Options = options ?? new MaskedLmOptions();
        if (Options.TopK < 1 || Options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"Masked-LM options must be ≥ 1: TopK {Options.TopK}, BatchSize {Options.BatchSize}.");
        if (!maskedLm.ArchitectureName.EndsWith("ForMaskedLM", StringComparison.Ordinal))
            throw new ArgumentException($"Masked-LM substitution needs a masked language model (e.g. BertForMaskedLM); '{maskedLm.ArchitectureName}' is not one.", nameof(maskedLm));
        _mlm = maskedLm;
        _encoder = encoder;
        string? mask = Options.MaskToken;
        int? id = mask is not null ? encoder.Tokenizer.TokenToId(mask) : encoder.Tokenizer.TokenToId("[MASK]") ?? encoder.Tokenizer.TokenToId("<mask>");
        _maskId = id ?? throw new ArgumentException($"The tokenizer has no mask token {(mask is null ? "([MASK] or <mask>)" : $"'{mask}'")}; set MaskedLmOptions.MaskToken.", nameof(encoder));
    }

    /// <summary>The fillers for every word, in word order (the basis of Generate; also for inspection).</summary>
    public IReadOnlyList<MaskedLmFillers> Fillers(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(example.Text, nameof(example.Text));
        var enc = _encoder.Encode(example.Text);
        var ignore = Options.WordsToIgnore.ToHashSet(StringComparer.OrdinalIgnoreCase);
        // Words: maximal runs of non-special positions sharing a word id.
        var words = new List<(int Start, int End)>();
        for (int i = 0; i < enc.Length; i++)
        {
            if (enc.IsSpecial[i]) continue;
            if (words.Count > 0 && words[^1].End == i && enc.WordIds[i] is { } w && enc.WordIds[i - 1] == w) words[^1] = (words[^1].Start, i + 1);
            else words.Add((i, i + 1));
        }
        var jobs = new List<(int WordIndex, string Word, int CharStart, int CharEnd, int[] Ids, int MaskPos)>();
        for (int wi = 0; wi < words.Count; wi++)
        {
            var (s, e) = words[wi];
            int cs = enc.Offsets[s].Start, ce = enc.Offsets[e - 1].End;
            string word = example.Text[cs..ce];
            if (ignore.Contains(word)) continue;
            var ids = enc.Ids.Take(s).Append(_maskId).Concat(enc.Ids.Skip(e)).ToArray();
            jobs.Add((wi, word, cs, ce, ids, s));
        }
        var result = new List<MaskedLmFillers>();
        using var _ = Tape.NoGrad();
        for (int start = 0; start < jobs.Count; start += Options.BatchSize)
        {
            var chunk = jobs.Skip(start).Take(Options.BatchSize).ToArray();
            var input = _encoder.Batch(chunk.Select(j => j.Ids).ToArray());
            var output = _mlm.Forward(input);
            var logits = output.Logits ?? throw new InvalidOperationException($"{_mlm.ArchitectureName} returned no logits.");
            if (logits.Rank != 3 || logits.Shape[0] != chunk.Length || logits.Shape[1] != input.SeqLength)
                throw new InvalidOperationException($"{_mlm.ArchitectureName} returned logits of shape [{string.Join(", ", logits.Shape)}]; a masked LM gives [batch, positions, vocab].");
            int v = logits.Shape[2], s = input.SeqLength;
            for (int r = 0; r < chunk.Length; r++)
            {
                var row = logits.Span.Slice((r * s + chunk[r].MaskPos) * v, v);
                // Softmax over the whole vocabulary (in double), then the best allowed fillers.
                double max = double.NegativeInfinity;
                foreach (var x in row) max = Math.Max(max, x);
                double z = 0;
                foreach (var x in row) z += Math.Exp(x - max);
                var order = Enumerable.Range(0, v).ToArray();
                var keys = new float[v];
                for (int k = 0; k < v; k++) keys[k] = -row[k];
                Array.Sort(keys, order); // descending logits (exact float ties, rare, in unspecified order)
                var ids = new List<int>(); var texts = new List<string>(); var probs = new List<double>();
                foreach (int id in order)
                {
                    if (ids.Count == Options.TopK) break;
                    if (!Allowed(id, chunk[r].Word, out var text)) continue;
                    ids.Add(id); texts.Add(text); probs.Add(Math.Exp(row[id] - max) / z);
                }
                result.Add(new MaskedLmFillers(chunk[r].WordIndex, chunk[r].Word, chunk[r].CharStart, chunk[r].CharEnd, chunk[r].Ids, chunk[r].MaskPos, [.. ids], [.. texts], [.. probs]));
            }
            logits.Dispose();
        }
        return result;
    }

    /// <summary>Whether a vocabulary id may fill a word's place, and the text it inserts.</summary>
    public bool Allowed(int id, string originalWord, out string text)
    {
        text = "";
        if (_encoder.IsPlaceholder(id)) return false;
        var token = _encoder.Tokenizer.IdToToken(id)!;
        if (!Options.AllowSubwordFillers && token.StartsWith("##", StringComparison.Ordinal)) return false;
        text = _encoder.Tokenizer.Decode([id]).Trim();
        if (text.Length == 0) return false;
        return !string.Equals(text, originalWord, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One counterfactual per (word, filler): the word's characters replaced by the filler.</summary>
    public IReadOnlyList<Counterfactual> Generate(TextExample example)
    {
        var output = new List<Counterfactual>();
        foreach (var f in Fillers(example))
            for (int k = 0; k < f.FillerIds.Length; k++)
            {
                var ids = (int[])f.MaskedIds.Clone();
                ids[f.MaskPosition] = f.FillerIds[k];
                output.Add(new Counterfactual
                {
                    Id = $"{example.Id}:{Name}:{output.Count}",
                    ParentId = example.Id,
                    Generator = Name,
                    Text = string.Concat(example.Text.AsSpan(0, f.CharStart), f.Fillers[k], example.Text.AsSpan(f.CharEnd)),
                    Unit = "word",
                    Edits = [new CounterfactualEdit(f.WordIndex, f.Word, f.Fillers[k], f.CharStart, f.CharEnd, null, f.FillerIds[k])],
                    Parameters = new Dictionary<string, string>
                    {
                        ["maskedLm"] = _mlm.ArchitectureName,
                        ["topK"] = Options.TopK.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["rank"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                    InputIds = ids,
                    Label = example.Label,
                    FillerProbabilities = [f.Probabilities[k]],
                });
            }
        return output;
    }
}
