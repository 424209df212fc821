// `glassbox predict`: run a model on one input and print what it predicts as one JSON object.
// Every task prints tokens, inputIds, logits, probabilities and predicted:
//   sequence classification   softmax (multi_label_classification: sigmoid, predicted = labels > 0.5;
//                             regression: the raw value; one output: sigmoid score)
//   token classification      per token logits/probabilities; predicted = a tag per token
//   question answering        start/end logits and probabilities; predicted = the best context span
//                             (start ≤ end, at most 30 tokens) with its text and character offsets
//   masked LM                 for each mask token the top 10 fillers
//   causal LM                 the next-token distribution's top 10; with --max-new-tokens N, greedy
//                             generation: generatedIds, generatedText, steps[].topIds/topProbabilities
//   seq2seq LM                greedy generation from the encoded text (--max-new-tokens, default 20)
//   image classification      --image FILE instead of --text
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Models.Hub;
using Glassbox.Models.Images;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Cli;

internal static class PredictCommand
{
    private const int TopK = 10;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var modelOption = new Option<string>("--model") { Description = "model folder (Hugging Face layout) or Hub id org/name[@revision]", Required = true };
        var textOption = new Option<string?>("--text") { Description = "input text (the question for question answering)" };
        var pairOption = new Option<string?>("--pair") { Description = "second text: the pair for cross-encoders/NLI, the context for question answering" };
        var imageOption = new Option<string?>("--image") { Description = "image file (PNG or JPEG) for image classification" };
        var maxNewOption = new Option<int?>("--max-new-tokens") { Description = "language models: generate this many tokens greedily" };
        var maxLengthOption = new Option<int?>("--max-length") { Description = "truncate the input to this many tokens (special tokens included)" };
        var formatOption = new Option<string>("--format") { Description = "output format", DefaultValueFactory = _ => "json" };
        formatOption.AcceptOnlyFromAmong("json");
        var outOption = new Option<string?>("--out") { Description = "write the JSON to this file (atomically) instead of standard output" };

        var command = new Command("predict", "Run a model on one input and print tokens, logits, probabilities and the prediction as JSON.")
        {
            modelOption, textOption, pairOption, imageOption, maxNewOption, maxLengthOption, formatOption, outOption,
        };
        command.Validators.Add(result =>
        {
            bool hasText = result.GetResult(textOption) != null, hasImage = result.GetResult(imageOption) != null;
            if (hasText == hasImage) result.AddError("Give exactly one of --text or --image.");
            if (result.GetResult(pairOption) != null && !hasText) result.AddError("--pair goes with --text.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(maxNewOption)) is int n && n < 1)
                result.AddError($"--max-new-tokens must be at least 1, not {n}.");
            if (CliParsing.ParsedOrDefault(() => result.GetValue(maxLengthOption)) is int m && m < 1)
                result.AddError($"--max-length must be at least 1, not {m}.");
        });

        command.SetAction(parse =>
        {
            string modelArg = parse.GetValue(modelOption)!;
            string? outPath = parse.GetValue(outOption);
            if (!CommonOptions.CheckOutPath(outPath, stderr)) return Program.ExitBadInput;
            if (!CliModels.TryLoad(modelArg, stderr, out var folder, out var model)) return Program.ExitBadInput;
            try
            {
                string json = parse.GetValue(imageOption) is { } image
                    ? PredictImage(folder, model, image)
                    : PredictText(folder, model, parse.GetValue(textOption)!, parse.GetValue(pairOption),
                        parse.GetValue(maxNewOption), parse.GetValue(maxLengthOption));
                if (outPath is null) stdout.WriteLine(json);
                else
                {
                    Glassbox.Render.AtomicFile.WriteAllText(outPath, json + "\n");
                    stderr.WriteLine($"wrote {outPath}");
                }
                return Program.ExitOk;
            }
            catch (BadInputException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadInput;
            }
        });
        return command;
    }

    internal static string PredictText(string folder, TransformerModel model, string text, string? pair, int? maxNewTokens, int? maxLength)
    {
        if (model is Vit) throw new BadInputException($"{folder} is an image model ({model.ArchitectureName}); pass --image FILE instead of --text.");
        var tokenizer = CliModels.LoadTokenizer(folder);
        var encoding = CliModels.Encode(tokenizer, model, text, pair, maxLength);
        int[] ids = encoding.Ids;

        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("model", folder);
            w.WriteString("architecture", model.ArchitectureName);
            WriteStrings(w, "tokens", encoding.Tokens);
            WriteInts(w, "inputIds", ids);
            using (Tape.NoGrad())
            {
                switch (model)
                {
                    case ICausalLanguageModel lm:
                        WriteCausal(w, lm, tokenizer, ids, maxNewTokens);
                        break;
                    case ISeq2SeqLanguageModel s2s:
                        WriteSeq2Seq(w, s2s, tokenizer, ids, maxNewTokens ?? 20);
                        break;
                    default:
                        if (maxNewTokens is not null)
                            throw new BadInputException($"--max-new-tokens needs a language model; {folder} is {model.ArchitectureName}.");
                        WriteEncoder(w, model, encoding, text, pair, tokenizer);
                        break;
                }
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteEncoder(Utf8JsonWriter w, TransformerModel model, Encoding encoding, string text, string? pair, Tokenizer tokenizer)
    {
        var config = CliModels.ConfigOf(model);
        var labels = config?.Id2Label ?? [];
        var input = new ModelInput(1, encoding.Length, encoding.Ids, encoding.AttentionMask, encoding.TypeIds);
        var output = model.Forward(input);
        string arch = model.ArchitectureName;

        if (output.StartLogits is { } startT && output.EndLogits is { } endT)
        {
            w.WriteString("task", "question-answering");
            float[] start = startT.ToArray(), end = endT.ToArray();
            w.WriteStartObject("logits");
            WriteFloats(w, "start", start);
            WriteFloats(w, "end", end);
            w.WriteEndObject();
            double[] ps = Softmax(start), pe = Softmax(end);
            w.WriteStartObject("probabilities");
            WriteDoubles(w, "start", ps);
            WriteDoubles(w, "end", pe);
            w.WriteEndObject();
            WriteAnswer(w, encoding, start, end, ps, pe, pair is null ? text : pair, pair is null ? 0 : 1);
            return;
        }
        var logitsT = output.Logits ?? throw new BadInputException($"{arch} has no task head (no logits); predict needs a model with a classification, QA or LM head.");
        float[] logits = logitsT.ToArray();

        if (arch.EndsWith("ForMaskedLM", StringComparison.Ordinal))
        {
            w.WriteString("task", "fill-mask");
            int vocab = logitsT.Shape[^1];
            w.WriteStartArray("predicted");
            for (int i = 0; i < encoding.Length; i++)
            {
                if (!IsMask(encoding.Tokens[i])) continue;
                var row = logits.AsSpan(i * vocab, vocab).ToArray();
                var probs = Softmax(row);
                w.WriteStartObject();
                w.WriteNumber("position", i);
                var top = TopIndices(probs, TopK);
                WriteInts(w, "topIds", top);
                WriteStrings(w, "topTokens", top.Select(id => tokenizer.IdToToken(id) ?? "").ToArray());
                WriteFloats(w, "topLogits", top.Select(t => row[t]).ToArray());
                WriteDoubles(w, "topProbabilities", top.Select(t => probs[t]).ToArray());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("note", "full logit rows have vocabulary size, so predicted gives each mask position's top 10 ids with their logits and probabilities.");
            return;
        }

        if (logitsT.Shape.Length == 3)
        {
            w.WriteString("task", "token-classification");
            int n = logitsT.Shape[1], k = logitsT.Shape[2];
            w.WriteStartArray("logits");
            for (int i = 0; i < n; i++) { w.WriteStartArray(); foreach (var v in logits.AsSpan(i * k, k)) w.WriteNumberValue(v); w.WriteEndArray(); }
            w.WriteEndArray();
            var probs = new double[n][];
            w.WriteStartArray("probabilities");
            for (int i = 0; i < n; i++)
            {
                probs[i] = Softmax(logits.AsSpan(i * k, k).ToArray());
                w.WriteStartArray(); foreach (var v in probs[i]) w.WriteNumberValue(v); w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("predicted");
            for (int i = 0; i < n; i++)
            {
                int best = ArgMax(probs[i]);
                w.WriteStartObject();
                w.WriteString("token", encoding.Tokens[i]);
                w.WriteString("tag", Label(labels, best));
                w.WriteNumber("index", best);
                w.WriteNumber("probability", probs[i][best]);
                w.WriteNumber("start", encoding.Offsets[i].Start);
                w.WriteNumber("end", encoding.Offsets[i].End);
                w.WriteBoolean("special", encoding.SpecialTokensMask[i] == 1);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            return;
        }

        WriteFloats(w, "logits", logits);
        string problem = config?.ProblemType ?? (logits.Length == 1 ? "single_output" : "single_label_classification");
        switch (problem)
        {
            case "regression":
                w.WriteString("task", "regression");
                WriteDoubles(w, "probabilities", []);
                if (logits.Length == 1) w.WriteNumber("predicted", logits[0]);
                else WriteFloats(w, "predicted", logits);
                break;
            case "multi_label_classification":
            {
                w.WriteString("task", "multi-label-classification");
                var p = logits.Select(v => Sigmoid(v)).ToArray();
                WriteDoubles(w, "probabilities", p);
                WriteStrings(w, "predicted", Enumerable.Range(0, p.Length).Where(i => p[i] > 0.5).Select(i => Label(labels, i)).ToArray());
                WriteLabels(w, labels, p.Length);
                break;
            }
            case "single_output":
            {
                // One output and no problem_type: a cross-encoder score; sigmoid as transformers' pipeline applies it.
                w.WriteString("task", "sequence-classification");
                double p = Sigmoid(logits[0]);
                WriteDoubles(w, "probabilities", [p]);
                w.WriteStartObject("predicted");
                w.WriteString("label", Label(labels, 0));
                w.WriteNumber("index", 0);
                w.WriteNumber("score", p);
                w.WriteEndObject();
                break;
            }
            default:
            {
                w.WriteString("task", "sequence-classification");
                var p = Softmax(logits);
                int best = ArgMax(p);
                WriteDoubles(w, "probabilities", p);
                w.WriteStartObject("predicted");
                w.WriteString("label", Label(labels, best));
                w.WriteNumber("index", best);
                w.WriteNumber("score", p[best]);
                w.WriteEndObject();
                WriteLabels(w, labels, p.Length);
                break;
            }
        }
    }

    private static void WriteAnswer(Utf8JsonWriter w, Encoding encoding, float[] start, float[] end, double[] ps, double[] pe, string context, int contextSequence)
    {
        const int MaxAnswerTokens = 30;
        var seq = encoding.SequenceIds;
        int bs = -1, be = -1; double bestScore = double.NegativeInfinity;
        for (int s = 0; s < start.Length; s++)
        {
            if (seq[s] != contextSequence || encoding.SpecialTokensMask[s] == 1) continue;
            for (int e = s; e < Math.Min(end.Length, s + MaxAnswerTokens); e++)
            {
                if (seq[e] != contextSequence || encoding.SpecialTokensMask[e] == 1) break;
                double score = start[s] + (double)end[e];
                if (score > bestScore) { bestScore = score; bs = s; be = e; }
            }
        }
        w.WriteStartObject("predicted");
        if (bs < 0)
        {
            w.WriteString("answer", "");
            w.WriteNull("start"); w.WriteNull("end");
        }
        else
        {
            int cs = encoding.Offsets[bs].Start, ce = encoding.Offsets[be].End;
            w.WriteString("answer", cs >= 0 && ce <= context.Length && cs <= ce ? context[cs..ce] : "");
            w.WriteNumber("start", cs);
            w.WriteNumber("end", ce);
            w.WriteNumber("startToken", bs);
            w.WriteNumber("endToken", be);
            w.WriteNumber("score", ps[bs] * pe[be]);
        }
        w.WriteEndObject();
    }

    private static void WriteCausal(Utf8JsonWriter w, ICausalLanguageModel lm, Tokenizer tokenizer, int[] ids, int? maxNewTokens)
    {
        w.WriteString("task", "causal-lm");
        var logits = lm.ForwardLogits(ModelInput.Single(ids));
        int vocab = logits.Shape[^1], n = logits.Shape[1];
        var last = logits.Span.Slice((n - 1) * vocab, vocab).ToArray();
        var probs = Softmax(last);
        var top = TopIndices(probs, TopK);
        w.WriteString("note", "logits and probabilities are the next-token distribution's top 10 (topIds order); full rows have vocabulary size.");
        WriteFloats(w, "logits", top.Select(i => last[i]).ToArray());
        WriteDoubles(w, "probabilities", top.Select(i => probs[i]).ToArray());
        WriteInts(w, "topIds", top);
        w.WriteStartObject("predicted");
        w.WriteNumber("id", top[0]);
        w.WriteString("token", tokenizer.IdToToken(top[0]) ?? "");
        w.WriteString("text", tokenizer.Decode([top[0]], skipSpecialTokens: false));
        w.WriteEndObject();
        if (maxNewTokens is int m)
        {
            if (ids.Length + m > lm.MaxPositions)
                throw new BadInputException($"the prompt has {ids.Length} tokens and {m} new tokens would make {ids.Length + m}, beyond the model's limit of {lm.MaxPositions} positions; lower --max-new-tokens or pass --max-length to truncate the prompt.");
            WriteGeneration(w, Generator.Generate(lm, ids, GenerationOptions.Greedy(m)), tokenizer);
        }
    }

    private static void WriteSeq2Seq(Utf8JsonWriter w, ISeq2SeqLanguageModel model, Tokenizer tokenizer, int[] ids, int maxNewTokens)
    {
        w.WriteString("task", "seq2seq-lm");
        var result = Generator.Generate(model, ids, GenerationOptions.Greedy(maxNewTokens));
        if (result.Steps.Count > 0)
        {
            var first = result.Steps[0];
            w.WriteString("note", "logits are not printed for seq2seq models; probabilities are the first decoder step's top 10 (topIds order).");
            WriteDoubles(w, "probabilities", first.TopProbabilities.Select(p => (double)p).ToArray());
            WriteInts(w, "topIds", first.TopIds);
        }
        w.WriteString("predicted", tokenizer.Decode(result.GeneratedIds, skipSpecialTokens: true));
        WriteGeneration(w, result, tokenizer);
    }

    private static void WriteGeneration(Utf8JsonWriter w, GenerationResult result, Tokenizer tokenizer)
    {
        WriteInts(w, "generatedIds", result.GeneratedIds);
        w.WriteString("generatedText", tokenizer.Decode(result.GeneratedIds, skipSpecialTokens: true));
        w.WriteString("finishReason", result.FinishReason.ToString());
        w.WriteStartArray("steps");
        foreach (var s in result.Steps)
        {
            w.WriteStartObject();
            w.WriteNumber("tokenId", s.TokenId);
            w.WriteString("token", tokenizer.IdToToken(s.TokenId) ?? "");
            w.WriteNumber("probability", s.Probability);
            WriteInts(w, "topIds", s.TopIds);
            WriteFloats(w, "topProbabilities", s.TopProbabilities);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static string PredictImage(string folder, TransformerModel model, string imagePath)
    {
        if (model is not Vit vit) throw new BadInputException($"--image needs an image classifier; {folder} is {model.ArchitectureName} (pass --text).");
        if (!File.Exists(imagePath)) throw new BadInputException($"image file not found: {imagePath}. Pass --image a PNG or JPEG file.");
        RgbImage image;
        try { image = RgbImage.Load(imagePath); }
        catch (ImageFormatException e) { throw new BadInputException($"cannot read the image {imagePath}: {e.Message}"); }
        VitImageProcessor processor;
        try { processor = VitImageProcessor.FromPretrained(folder); }
        catch (FileNotFoundException e) { throw new BadInputException(e.Message); }
        float[] logits;
        using (Tape.NoGrad()) logits = (vit.Forward(processor.Preprocess(image)).Logits ?? throw new BadInputException($"{model.ArchitectureName} has no classification head; predict needs ViTForImageClassification.")).ToArray();
        var labels = vit.Config.Id2Label;
        var p = Softmax(logits);
        int best = ArgMax(p);
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("model", folder);
            w.WriteString("architecture", model.ArchitectureName);
            w.WriteString("task", "image-classification");
            w.WriteString("image", imagePath);
            WriteFloats(w, "logits", logits);
            WriteDoubles(w, "probabilities", p);
            w.WriteStartObject("predicted");
            w.WriteString("label", Label(labels, best));
            w.WriteNumber("index", best);
            w.WriteNumber("score", p[best]);
            w.WriteEndObject();
            WriteLabels(w, labels, p.Length);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static bool IsMask(string token) => token is "[MASK]" or "<mask>";

    private static string Label(IReadOnlyList<string> labels, int i) => i < labels.Count ? labels[i] : $"LABEL_{i}";

    private static void WriteLabels(Utf8JsonWriter w, IReadOnlyList<string> labels, int n) =>
        WriteStrings(w, "labels", Enumerable.Range(0, n).Select(i => Label(labels, i)).ToArray());

    internal static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    internal static double[] Softmax(float[] logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    internal static int ArgMax(IReadOnlyList<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Count; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static int[] TopIndices(double[] p, int k) =>
        Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(k).ToArray();

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name); foreach (var v in values) w.WriteStringValue(v); w.WriteEndArray();
    }

    private static void WriteInts(Utf8JsonWriter w, string name, IReadOnlyList<int> values)
    {
        w.WriteStartArray(name); foreach (var v in values) w.WriteNumberValue(v); w.WriteEndArray();
    }

    private static void WriteFloats(Utf8JsonWriter w, string name, IReadOnlyList<float> values)
    {
        w.WriteStartArray(name); foreach (var v in values) w.WriteNumberValue(v); w.WriteEndArray();
    }

    private static void WriteDoubles(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name); foreach (var v in values) w.WriteNumberValue(v); w.WriteEndArray();
    }
}

/// <summary>Bad input found while running a command (exit code 2); the message says what to do.</summary>
internal sealed class BadInputException(string message) : Exception(message);

internal static class CliParsing
{
    public static T? ParsedOrDefault<T>(Func<T> read)
    {
        try { return read(); }
        catch (InvalidOperationException) { return default; }
    }
}

/// <summary>--model resolution and input encoding shared by predict and explain.</summary>
internal static class CliModels
{
    /// <summary>Resolves and loads --model; on failure writes a message naming the path and the way out, and returns false (exit 2).</summary>
    public static bool TryLoad(string modelArg, TextWriter stderr, out string folder, out TransformerModel model)
    {
        folder = ""; model = null!;
        try
        {
            folder = HubClient.ResolveModelFolder(modelArg);
            model = AutoModel.FromPretrained(folder);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            stderr.WriteLine($"error: model folder not found: {modelArg}");
            stderr.WriteLine("Pass --model a Hugging Face model folder (config.json and weights such as model.safetensors) or a Hub id such as org/name; check the path.");
        }
        catch (HubException e)
        {
            stderr.WriteLine($"error: cannot resolve the model '{modelArg}': {e.Message}");
            stderr.WriteLine("Pass --model an existing model folder, or a Hub id that is in the Hugging Face cache (or reachable online).");
        }
        catch (FileNotFoundException e)
        {
            stderr.WriteLine($"error: {modelArg}: {e.Message}");
            stderr.WriteLine("A model folder needs config.json and weights (model.safetensors, sharded safetensors or pytorch_model.bin).");
        }
        catch (Exception e) when (e is ConfigException or NotSupportedException or Glassbox.Models.Checkpoints.CheckpointFormatException or JsonException or InvalidDataException)
        {
            stderr.WriteLine($"error: cannot load the model from {modelArg}: {e.Message}");
        }
        return false;
    }

    public static Tokenizer LoadTokenizer(string folder)
    {
        try
        {
            return TokenizerLoader.Load(folder);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or TokenizerFormatException or FormatException or JsonException or InvalidDataException)
        {
            throw new BadInputException($"cannot load a tokenizer from {folder}: {e.Message} A text model folder needs tokenizer.json (or vocab.txt, vocab.json + merges.txt, or a SentencePiece model).");
        }
    }

    public static ModelConfig? ConfigOf(TransformerModel model) => AutoModel.ConfigOf(model);

    /// <summary>The most tokens one input may have, and the config field that sets it.</summary>
    public static (int Limit, string Source) MaxTokens(TransformerModel model) => model switch
    {
        Bert b => (b.Config.MaxPositionEmbeddings, "max_position_embeddings"),
        DistilBert d => (d.Config.MaxPositionEmbeddings, "max_position_embeddings"),
        Roberta r => (r.Config.MaxPositionEmbeddings - (r.Config.PadTokenId ?? 1) - 1, "max_position_embeddings − padding_idx − 1"),
        ICausalLanguageModel lm => (lm.MaxPositions, "max_position_embeddings"),
        _ => (int.MaxValue, "none"),
    };

    /// <summary>Encodes text (and pair) with special tokens; over-long input is an error naming the limit
    /// unless maxLength asks for truncation.</summary>
    public static Encoding Encode(Tokenizer tokenizer, TransformerModel model, string text, string? pair, int? maxLength)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new BadInputException("--text is empty; give the text to run the model on.");
        if (pair is not null && string.IsNullOrWhiteSpace(pair)) throw new BadInputException("--pair is empty; give the second text or leave --pair out.");
        var (limit, source) = MaxTokens(model);
        if (maxLength is int m)
            tokenizer.Truncation = new TruncationOptions { MaxLength = Math.Min(m, limit), Strategy = TruncationStrategy.LongestFirst };
        Encoding encoding;
        try
        {
            encoding = tokenizer.Encode(text, pair, addSpecialTokens: true);
        }
        catch (TokenizationException e)
        {
            throw new BadInputException($"{e.Message} Choose a larger --max-length.");
        }
        if (encoding.Length > limit)
            throw new BadInputException($"the input has {encoding.Length} tokens but {model.ArchitectureName} accepts at most {limit} ({source}); shorten the text or pass --max-length {limit} to truncate it.");
        if (encoding.Length == 0) throw new BadInputException("the input encodes to no tokens.");
        return encoding;
    }
}
