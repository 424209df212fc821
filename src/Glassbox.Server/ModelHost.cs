// One served model: the Glassbox transformer, its tokenizer, the task its head declares (which
// decides the input/output spec, the compatible interpreters and the front-end modules) and the
// explainer that computes its salience maps. A model runs one computation at a time: hooks and
// the autograd tape belong to the model, so concurrent requests for it queue on its gate.
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Models.Hub;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Server;

/// <summary>The tasks the web app has modules for.</summary>
public static class ServedTasks
{
    public const string Classification = "classification";
    public const string MultiLabel = "multi-label-classification";
    public const string Regression = "regression";
    public const string TokenClassification = "token-classification";
    public const string QuestionAnswering = "question-answering";
    public const string Generation = "text-generation";
}

internal sealed partial class ModelHost
{
    private readonly object _explainerLock = new();
    private TextExplainer? _explainer;
    private readonly TransformerModel? _model;
    private readonly Tokenizer? _tokenizer;

    private ModelHost(string name, string source, string folder, TransformerModel model, Tokenizer tokenizer, string task,
        IReadOnlyList<string> labels, int maxTokens)
    {
        Name = name; Source = source; Folder = folder; _model = model; _tokenizer = tokenizer; Task = task; Labels = labels; MaxTokens = maxTokens;
        Architecture = model.ArchitectureName;
    }

    public string Name { get; }
    public string Source { get; }
    public string Folder { get; }
    /// <summary>True for a Glassbox transformer (hook points, gradients, attention); false for a model given by its spec
    /// (<see cref="Custom"/>: C# code, ONNX, HTTP).</summary>
    public bool IsNative => _model is not null;
    /// <summary>The Glassbox transformer. For a model given by its spec this is a 400 naming what the request needs,
    /// so an endpoint that forgets to check <see cref="IsNative"/> still answers clearly.</summary>
    public TransformerModel Model => _model ?? throw NeedsNative("a Glassbox transformer (hook points and gradients)");
    /// <summary>The tokenizer (native models, and black boxes registered with one).</summary>
    public Tokenizer Tokenizer => _tokenizer ?? throw NeedsNative("a tokenizer");
    /// <summary>True when <see cref="Tokenizer"/> is available.</summary>
    public bool HasTokenizer => _tokenizer is not null;
    /// <summary>The architecture for a native model; for others what they are ("custom: LexiconSentiment", "onnx", "http").</summary>
    public string Architecture { get; }
    public string Task { get; }
    public IReadOnlyList<string> Labels { get; }
    public int MaxTokens { get; }
    /// <summary>One computation at a time per model (hooks and tapes are the model's).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Loads a model folder or Hub id; errors name the source and what a model folder needs.</summary>
    public static ModelHost Load(ModelSource source)
    {
        string folder;
        TransformerModel model;
        try
        {
            folder = HubClient.ResolveModelFolder(source.Source);
            model = AutoModel.FromPretrained(folder);
        }
        catch (DirectoryNotFoundException)
        {
            throw new ArgumentException($"--model {source.Name}={source.Source}: model folder not found. Pass a Hugging Face model folder (config.json and weights) or a Hub id in the cache.");
        }
        catch (Exception e) when (e is HubException or FileNotFoundException or ConfigException or NotSupportedException or InvalidDataException
            or System.Text.Json.JsonException or Glassbox.Models.Checkpoints.CheckpointFormatException)
        {
            throw new ArgumentException($"--model {source.Name}={source.Source}: cannot load the model: {e.Message}");
        }
        if (model is Vit)
            throw new ArgumentException($"--model {source.Name}={source.Source} is an image model ({model.ArchitectureName}); the web app serves text models. Use 'glassbox explain image-classification' for images.");
        Tokenizer tokenizer;
        try { tokenizer = Tokenizer.FromPretrained(folder); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or TokenizerFormatException or FormatException or System.Text.Json.JsonException or InvalidDataException)
        {
            throw new ArgumentException($"--model {source.Name}={source.Source}: cannot load its tokenizer: {e.Message} A text model folder needs tokenizer.json (or vocab.txt, or vocab.json + merges.txt).");
        }
        var config = ExplainerModelConfig(model);
        string arch = model.ArchitectureName;
        string task = model switch
        {
            ICausalLanguageModel => ServedTasks.Generation,
            ISeq2SeqLanguageModel => ServedTasks.Generation,
            _ when arch.EndsWith("ForQuestionAnswering", StringComparison.Ordinal) => ServedTasks.QuestionAnswering,
            _ when arch.EndsWith("ForTokenClassification", StringComparison.Ordinal) => ServedTasks.TokenClassification,
            _ when arch.EndsWith("ForSequenceClassification", StringComparison.Ordinal) => config?.ProblemType switch
            {
                "regression" => ServedTasks.Regression,
                "multi_label_classification" => ServedTasks.MultiLabel,
                _ when config?.NumLabels == 1 => ServedTasks.Regression,
                _ => ServedTasks.Classification,
            },
            _ => throw new ArgumentException($"--model {source.Name}={source.Source} is {arch}; the web app serves sequence classification, multi-label, regression, token classification, question answering and language models."),
        };
        int maxTokens = model switch
        {
            Bert b => b.Config.MaxPositionEmbeddings,
            DistilBert d => d.Config.MaxPositionEmbeddings,
            Roberta r => r.Config.MaxPositionEmbeddings - (r.Config.PadTokenId ?? 1) - 1,
            ICausalLanguageModel lm => lm.MaxPositions,
            _ => 512,
        };
        tokenizer.Truncation = new TruncationOptions { MaxLength = maxTokens, Strategy = TruncationStrategy.LongestFirst };
        var labels = task is ServedTasks.Generation ? [] : (IReadOnlyList<string>)(config?.Id2Label ?? ["LABEL_0", "LABEL_1"]);
        return new ModelHost(source.Name, source.Source, folder, model, tokenizer, task, labels, maxTokens);
    }

    private static ModelConfig? ExplainerModelConfig(TransformerModel model) => model switch
    {
        Bert b => b.Config, DistilBert d => d.Config, Roberta r => r.Config, Gpt2 g => g.Config,
        GptNeoX n => n.Config, Llama l => l.Config, T5 t => t.Config, _ => null,
    };

    /// <summary>Fields the model reads (LIT's input_spec).</summary>
    public IReadOnlyDictionary<string, FieldSpec> InputSpec => !IsNative ? CustomInputSpec() : Task switch
    {
        ServedTasks.QuestionAnswering => new Dictionary<string, FieldSpec> { ["text"] = new("TextSegment"), ["pair"] = new("TextSegment") },
        ServedTasks.Generation => new Dictionary<string, FieldSpec> { ["text"] = new("TextSegment") },
        ServedTasks.TokenClassification => new Dictionary<string, FieldSpec> { ["text"] = new("TextSegment") },
        _ => new Dictionary<string, FieldSpec> { ["text"] = new("TextSegment"), ["pair"] = new("TextSegment", Required: false) },
    };

    /// <summary>Fields the model writes (LIT's output_spec); Parent names the gold field.</summary>
    public IReadOnlyDictionary<string, FieldSpec> OutputSpec => !IsNative ? CustomOutputSpec() : Task switch
    {
        ServedTasks.Classification => new Dictionary<string, FieldSpec> { ["probabilities"] = new("MulticlassPreds", Labels, Parent: "label"), ["tokens"] = new("Tokens") },
        ServedTasks.MultiLabel => new Dictionary<string, FieldSpec> { ["probabilities"] = new("MultilabelPreds", Labels, Parent: "label"), ["tokens"] = new("Tokens") },
        ServedTasks.Regression => new Dictionary<string, FieldSpec> { ["value"] = new("RegressionScore", Parent: "label"), ["tokens"] = new("Tokens") },
        ServedTasks.TokenClassification => new Dictionary<string, FieldSpec> { ["tags"] = new("SequenceTags", Labels, Parent: "label"), ["tokens"] = new("Tokens") },
        ServedTasks.QuestionAnswering => new Dictionary<string, FieldSpec> { ["answer"] = new("SpanLabels", Parent: "label"), ["tokens"] = new("Tokens") },
        _ => new Dictionary<string, FieldSpec> { ["generatedText"] = new("GeneratedText", Parent: "label"), ["tokens"] = new("Tokens") },
    };

    /// <summary>Attribution methods that apply to this model's task (all of them for heads the explainers cover).</summary>
    public IReadOnlyList<string> Interpreters => !IsNative ? CustomInterpreters() : Task is ServedTasks.Classification or ServedTasks.MultiLabel
        or ServedTasks.TokenClassification or ServedTasks.QuestionAnswering
        ? AttributionMethods.Names
        : [];

    /// <summary>Attention patterns are read from the hook points of encoders and decoder-only models.</summary>
    public bool HasAttention => IsNative && Model is not ISeq2SeqLanguageModel;

    /// <summary>Checks a datapoint against the input spec; the message names the field.</summary>
    public void CheckInput(Datapoint d, int maxChars, string where)
    {
        if (string.IsNullOrWhiteSpace(d.Text)) throw new ApiException(400, "bad_input", $"{where}: 'text' is empty; model '{Name}' needs text to run on.");
        if (d.Text.Length > maxChars) throw new ApiException(413, "text_too_long", $"{where}: 'text' has {d.Text.Length} characters; the limit is {maxChars}.");
        if (d.Pair is { Length: var n } && n > maxChars) throw new ApiException(413, "text_too_long", $"{where}: 'pair' has {n} characters; the limit is {maxChars}.");
        if (!IsNative) { CheckCustomInput(d, where); return; }
        if (Task == ServedTasks.QuestionAnswering && string.IsNullOrWhiteSpace(d.Pair))
            throw new ApiException(400, "bad_input", $"{where}: model '{Name}' answers questions: 'text' is the question and 'pair' the context, and 'pair' is missing.");
        if (Task is ServedTasks.TokenClassification or ServedTasks.Generation && d.Pair is not null)
            throw new ApiException(400, "bad_input", $"{where}: model '{Name}' ({Task}) reads one text; remove 'pair'.");
    }

    /// <summary>Runs the model on one datapoint. Call while holding Gate.</summary>
    public Prediction Predict(Datapoint d, int maxNewTokens)
    {
        if (!IsNative) return PredictBatch([d])[0];
        using var _ = Tape.NoGrad();
        string? pair = string.IsNullOrEmpty(d.Pair) ? null : d.Pair;
        var enc = Tokenizer.Encode(d.Text, pair, addSpecialTokens: true);
        bool truncated = enc.Overflowing.Count > 0;
        var tokens = enc.Tokens.ToArray();
        switch (Model)
        {
            case ICausalLanguageModel lm:
            {
                int room = Math.Max(0, Math.Min(maxNewTokens, lm.MaxPositions - enc.Length));
                var ids = enc.Ids;
                if (room == 0) return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, GeneratedText = "" };
                var r = Generator.Generate(lm, ids, GenerationOptions.Greedy(room));
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, GeneratedText = Tokenizer.Decode(r.GeneratedIds, skipSpecialTokens: true) };
            }
            case ISeq2SeqLanguageModel s2s:
            {
                var r = Generator.Generate(s2s, enc.Ids, GenerationOptions.Greedy(Math.Max(1, maxNewTokens)));
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, GeneratedText = Tokenizer.Decode(r.GeneratedIds, skipSpecialTokens: true) };
            }
        }
        var input = new ModelInput(1, enc.Length, enc.Ids, enc.AttentionMask, enc.TypeIds);
        ModelOutput output;
        lock (Model) output = Model.Forward(input);
        switch (Task)
        {
            case ServedTasks.QuestionAnswering:
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, Answer = BestSpan(enc, output.StartLogits!.ToArray(), output.EndLogits!.ToArray(), pair ?? "") };
            case ServedTasks.TokenClassification:
            {
                var logits = output.Logits!;
                int n = logits.Shape[1], k = logits.Shape[2];
                var flat = logits.ToArray();
                var tags = new TokenTag[n];
                for (int i = 0; i < n; i++)
                {
                    var p = Softmax(flat.AsSpan(i * k, k));
                    int best = ArgMax(p);
                    tags[i] = new TokenTag(i, tokens[i], LabelName(best), p[best], enc.Offsets[i].Start, enc.Offsets[i].End, enc.SpecialTokensMask[i] == 1);
                }
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, Tags = tags };
            }
            case ServedTasks.MultiLabel:
            {
                var l = output.Logits!.ToArray();
                var p = l.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
                var on = Enumerable.Range(0, p.Length).Where(i => p[i] > 0.5).Select(LabelName).ToArray();
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, Probabilities = p, Labels = on, Label = string.Join(",", on), LabelIndex = ArgMax(p) };
            }
            case ServedTasks.Regression:
            {
                var l = output.Logits!.ToArray();
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, Value = l[0] };
            }
            default:
            {
                var p = Softmax(output.Logits!.ToArray());
                int best = ArgMax(p);
                return new Prediction { Task = Task, Tokens = tokens, Truncated = truncated, Probabilities = p, Label = LabelName(best), LabelIndex = best };
            }
        }
    }

    /// <summary>The targets a salience request may name, and the default one for this prediction.</summary>
    public (IReadOnlyList<string> Targets, string Default) Targets(Prediction p) => !IsNative ? CustomTargets(p) : Task switch
    {
        ServedTasks.QuestionAnswering => (["start", "end"], "start"),
        ServedTasks.TokenClassification => (p.Tags!.Where(t => !t.Special).Select(t => t.Index.ToString()).ToArray(),
            (p.Tags!.FirstOrDefault(t => !t.Special && t.Tag != "O") ?? p.Tags!.FirstOrDefault(t => !t.Special) ?? p.Tags![0]).Index.ToString()),
        _ => (Labels, p.Label is { Length: > 0 } && p.LabelIndex is int i ? Labels[i] : Labels[p.LabelIndex ?? 0]),
    };

    /// <summary>One salience map for the target with the given method. Call while holding Gate.</summary>
    public SalienceResult Interpret(Datapoint d, string method, string target, ExplainerOptions options)
    {
        if (!IsNative) return CustomInterpret(d, method, target, options);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var explainer = Explainer();
        TextAttribution a;
        IReadOnlyList<string> warnings;
        switch (explainer)
        {
            case PairwiseSequenceClassificationExplainer pw when !string.IsNullOrEmpty(d.Pair):
            {
                var e = pw.Explain(d.Text, d.Pair, className: target, options: options);
                a = e.Attribution; warnings = e.Warnings;
                break;
            }
            case PairwiseSequenceClassificationExplainer pw:
            {
                var e = pw.Explain(d.Text, className: target, options: options);
                a = e.Attribution; warnings = e.Warnings;
                break;
            }
            case MultiLabelClassificationExplainer ml:
            {
                var e = ml.Explain(d.Text, options);
                a = e[target].Attribution; warnings = e.Warnings;
                break;
            }
            case TokenClassificationExplainer tc:
            {
                int index = int.Parse(target, System.Globalization.CultureInfo.InvariantCulture);
                var e = tc.Explain(d.Text, ignoredIndexes: Enumerable.Range(0, MaxTokens).Where(i => i != index).ToArray(), options: options);
                a = e.Tokens.FirstOrDefault()?.Attribution
                    ?? throw new ApiException(400, "bad_target", $"token {index} is outside the explained text (the explainer cleans the text, which can change token positions).");
                warnings = e.Warnings.Where(w => !w.StartsWith("ignoredIndexes", StringComparison.Ordinal)).ToList();
                break;
            }
            case QuestionAnsweringExplainer qa:
            {
                var e = qa.Explain(d.Text, d.Pair!, options);
                a = target == "end" ? e.End : e.Start; warnings = e.Warnings;
                break;
            }
            default:
                throw new ApiException(400, "no_interpreters", $"model '{Name}' ({Task}) has no salience methods; its /api/info entry lists none.");
        }
        var tokens = a.Tokens.Select(t => new SalienceToken(t.Token, t.Start, t.End, t.Sequence, t.IsSpecial, Finite(t.Score), Finite(t.Raw))).ToArray();
        var words = a.Words.Select(w => new SalienceWord(w.Word, w.Start, w.End, w.Sequence, w.TokenIndices, Finite(w.Score), Finite(w.Raw))).ToArray();
        return new SalienceResult(method, a.Target, tokens, words, a.ConvergenceDelta is double dv && double.IsFinite(dv) ? dv : null,
            warnings, started.Elapsed.TotalSeconds);
    }

    /// <summary>Attention probabilities [layer][head][query][key] for the encoded input. Call while holding Gate.</summary>
    public AttentionResponse Attention(Datapoint d)
    {
        var enc = Tokenizer.Encode(d.Text, string.IsNullOrEmpty(d.Pair) ? null : d.Pair, addSpecialTokens: true);
        var input = new ModelInput(1, enc.Length, enc.Ids, enc.AttentionMask, enc.TypeIds);
        var explainable = new TransformerExplainable(Model, Name, Labels, OutputTransform.None,
            o => o.Logits ?? o.StartLogits ?? o.LastHiddenState ?? throw new InvalidOperationException($"{Model.ArchitectureName} returned no output tensor."));
        float[][][][] patterns;
        lock (Model) patterns = AttentionMethods.Patterns(explainable, input);
        return new AttentionResponse(Name, enc.Tokens.ToArray(), patterns.Length, patterns.Length == 0 ? 0 : patterns[0].Length, patterns);
    }

    private TextExplainer Explainer()
    {
        lock (_explainerLock)
        {
            return _explainer ??= Task switch
            {
                ServedTasks.Classification => new PairwiseSequenceClassificationExplainer(Model, Tokenizer, Folder),
                ServedTasks.MultiLabel => new MultiLabelClassificationExplainer(Model, Tokenizer, Folder),
                ServedTasks.TokenClassification => new TokenClassificationExplainer(Model, Tokenizer, Folder),
                ServedTasks.QuestionAnswering => new QuestionAnsweringExplainer(Model, Tokenizer, Folder),
                _ => throw new ApiException(400, "no_interpreters", $"model '{Name}' ({Task}) has no salience methods; its /api/info entry lists none."),
            };
        }
    }

    private static AnswerSpan BestSpan(Tokenizers.Encoding enc, float[] start, float[] end, string context)
    {
        const int MaxAnswerTokens = 30;
        double[] ps = Softmax(start), pe = Softmax(end);
        int bs = -1, be = -1; double best = double.NegativeInfinity;
        for (int s = 0; s < start.Length; s++)
        {
            if (enc.SequenceIds[s] != 1 || enc.SpecialTokensMask[s] == 1) continue;
            for (int e = s; e < Math.Min(end.Length, s + MaxAnswerTokens); e++)
            {
                if (enc.SequenceIds[e] != 1 || enc.SpecialTokensMask[e] == 1) break;
                double score = start[s] + (double)end[e];
                if (score > best) { best = score; bs = s; be = e; }
            }
        }
        if (bs < 0) return new AnswerSpan("", -1, -1, 0);
        int cs = enc.Offsets[bs].Start, ce = enc.Offsets[be].End;
        string text = cs >= 0 && ce <= context.Length && cs <= ce ? context[cs..ce] : "";
        return new AnswerSpan(text, cs, ce, ps[bs] * pe[be]);
    }

    private string LabelName(int i) => i < Labels.Count ? Labels[i] : $"LABEL_{i}";

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    internal static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        var e = new double[logits.Length];
        double s = 0;
        for (int i = 0; i < e.Length; i++) { e[i] = Math.Exp(logits[i] - max); s += e[i]; }
        for (int i = 0; i < e.Length; i++) e[i] /= s;
        return e;
    }

    private static int ArgMax(IReadOnlyList<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Count; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
