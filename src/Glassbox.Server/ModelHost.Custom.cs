// A served model given by its spec rather than as a Glassbox transformer: a model written in C#
// (ITextModel), an ONNX export or an HTTP classifier (IExplainableModel + tokenizer, wrapped in a
// TokenizedTextModel). The spec decides everything the app offers, exactly as the head does for a
// native model: the task (MulticlassPreds → classification, RegressionScore → regression,
// GeneratedText → text generation, SpanLabels → span labelling), the perturbation interpreters
// (token-level through the explainers when the model has a tokenizer, word-level otherwise), gradient
// methods and attention only when the spec declares gradients, metrics from the prediction outputs,
// the projector only when the spec declares Embeddings, and the counterfactual generators that need no
// gradients.
using Glassbox.Explain;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.Extensions;

namespace Glassbox.Server;

internal sealed partial class ModelHost
{
    /// <summary>The task of a model that declares span labels only.</summary>
    public const string SpanLabeling = "span-labeling";

    private ModelHost(string name, string source, string architecture, ITextModel custom, ModelSpec spec, string task, IReadOnlyList<string> labels)
    {
        Name = name; Source = source; Folder = ""; Architecture = architecture; Custom = custom; Spec = spec; Task = task; Labels = labels;
        if (custom is TokenizedTextModel t) { _tokenizer = t.Tokenizer; MaxTokens = t.MaxTokens; }
        else MaxTokens = 0;
    }

    /// <summary>The model given by its spec, or null for a native model.</summary>
    public ITextModel? Custom { get; }

    /// <summary>The custom model's spec (validated), or null for a native model.</summary>
    public ModelSpec? Spec { get; }

    /// <summary>A model given by its spec. <paramref name="architecture"/> says what it is in /api/info.</summary>
    /// <exception cref="ArgumentException">the spec cannot be served (the message names the field and lists the known types).</exception>
    public static ModelHost FromSpec(string name, ITextModel model, string source, string architecture)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelSpec spec;
        try
        {
            spec = model.Spec ?? throw new SpecException($"model '{name}' has no spec; return a ModelSpec from its Spec property.");
            spec.Validate(name);
            if (spec.Gradients && model is not TokenizedTextModel { Spec.Gradients: true })
                throw new SpecException($"model '{name}' declares gradients, but only an IExplainableModel with hook points (registered with its tokenizer) can give them to the server; declare gradients: false, or register the IExplainableModel.");
        }
        catch (SpecException e) { throw new ArgumentException(e.Message, e); }
        string task = spec.OutputOf(FieldType.MulticlassPredsType) is not null ? ServedTasks.Classification
            : spec.OutputOf(FieldType.RegressionScoreType) is not null ? ServedTasks.Regression
            : spec.OutputOf(FieldType.GeneratedTextType) is not null ? ServedTasks.Generation
            : SpanLabeling;
        var labels = spec.OutputOf(FieldType.MulticlassPredsType) is { } preds ? spec.Output[preds].Vocab! : [];
        return new ModelHost(name, source, architecture, model, spec, task, labels);
    }

    private ApiException NeedsNative(string what) => new(400, "needs_native_model",
        $"model '{Name}' ({Architecture}) is served from its spec and has no {what}; this request needs it. /api/info lists what the model supports.");

    private ModelSpec CustomSpec => Spec!;

    private IReadOnlyDictionary<string, FieldSpec> CustomInputSpec()
    {
        var texts = CustomSpec.TextInputs;
        var s = new Dictionary<string, FieldSpec> { ["text"] = new("TextSegment") };
        if (texts.Count > 1) s["pair"] = new("TextSegment", Required: CustomSpec.Input[texts[1]].Required);
        return s;
    }

    private IReadOnlyDictionary<string, FieldSpec> CustomOutputSpec() =>
        CustomSpec.Output.ToDictionary(kv => kv.Key, kv => new FieldSpec(kv.Value.Type, kv.Value.Vocab, Parent: kv.Value.Parent));

    private IReadOnlyList<string> CustomInterpreters()
    {
        if (Task is not (ServedTasks.Classification or ServedTasks.Regression)) return [];
        if (Custom is TokenizedTextModel t)
            return t.Spec.Gradients ? AttributionMethods.Names : WordPerturbation.Methods;
        return WordPerturbation.Methods;
    }

    /// <summary>For a black box asked for a gradient or attention method: why it is refused; otherwise null.</summary>
    public string? Unavailable(string method)
    {
        if (!AttributionMethods.Names.Contains(method)) return null;
        var parsed = AttributionMethods.Parse(method);
        bool gradient = AttributionMethods.NeedsGradients(parsed) || parsed is AttributionMethod.Attention or AttributionMethod.Rollout or AttributionMethod.Flow;
        return !IsNative && gradient
            ? $"interpreter '{method}' needs gradients and hook points, but model '{Name}' ({Architecture}) is a black box (its spec declares no gradients); use one of: {string.Join(", ", Interpreters)}."
            : null;
    }

    /// <summary>The datapoint as the custom model's input fields (text, and the pair when the spec reads one).</summary>
    private FieldValues ToFields(Datapoint d)
    {
        var texts = CustomSpec.TextInputs;
        var f = new FieldValues { [texts[0]] = d.Text };
        if (texts.Count > 1 && !string.IsNullOrEmpty(d.Pair)) f[texts[1]] = d.Pair;
        return f;
    }

    private void CheckCustomInput(Datapoint d, string where)
    {
        var texts = CustomSpec.TextInputs;
        if (texts.Count == 1 && !string.IsNullOrEmpty(d.Pair))
            throw new ApiException(400, "bad_input", $"{where}: model '{Name}' reads one text ('{texts[0]}'); remove 'pair'.");
        if (texts.Count == 2 && CustomSpec.Input[texts[1]].Required && string.IsNullOrWhiteSpace(d.Pair))
            throw new ApiException(400, "bad_input", $"{where}: model '{Name}' reads a text pair ('{texts[0]}', '{texts[1]}') and 'pair' is missing.");
    }

    /// <summary>Predictions for a batch of datapoints in one call to the model. Call while holding Gate.</summary>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<Datapoint> points)
    {
        if (IsNative) return points.Select(d => Predict(d, 0)).ToArray();
        var inputs = points.Select(ToFields).ToArray();
        IReadOnlyList<FieldValues> outputs;
        try { outputs = Custom!.Predict(inputs); }
        catch (Exception e) when (e is not (ApiException or OperationCanceledException))
        {
            throw new ApiException(502, "model_failed", $"model '{Name}' ({Architecture}) failed: {e.Message}");
        }
        if (outputs is null || outputs.Count != inputs.Length)
            throw new ApiException(502, "model_failed", $"model '{Name}' returned {outputs?.Count ?? 0} outputs for {inputs.Length} inputs; Predict must return one per input, in order.");
        return outputs.Select((o, i) => ToPrediction(points[i], o)).ToArray();
    }

    private Prediction ToPrediction(Datapoint d, FieldValues o)
    {
        try
        {
            IReadOnlyList<string> tokens = CustomSpec.OutputOf(FieldType.TokensType) is { } tf && o.TryGetValue(tf, out var tv) && tv is IEnumerable<string> ts
                ? ts.ToArray()
                : WordPerturbation.Words(d.Text).Select(w => w.Word).ToArray();
            switch (Task)
            {
                case ServedTasks.Classification:
                {
                    var p = OutputValues.Numbers(o, CustomSpec.OutputOf(FieldType.MulticlassPredsType)!, Labels.Count, Name);
                    int best = 0;
                    for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
                    return new Prediction { Task = Task, Tokens = tokens, Probabilities = p, Label = Labels[best], LabelIndex = best };
                }
                case ServedTasks.Regression:
                    return new Prediction { Task = Task, Tokens = tokens, Value = OutputValues.Numbers(o, CustomSpec.OutputOf(FieldType.RegressionScoreType)!, 1, Name)[0] };
                case ServedTasks.Generation:
                {
                    string field = CustomSpec.OutputOf(FieldType.GeneratedTextType)!;
                    return new Prediction { Task = Task, Tokens = tokens, GeneratedText = o.TryGetValue(field, out var g) && g is string gs ? gs
                        : throw new InvalidOperationException($"model '{Name}' returned {g?.GetType().Name ?? "nothing"} for '{field}'; GeneratedText is a string.") };
                }
                default:
                {
                    string field = CustomSpec.OutputOf(FieldType.SpanLabelsType)!;
                    var spans = o.TryGetValue(field, out var sv) && sv is IEnumerable<SpanLabel> ss ? ss.ToArray()
                        : throw new InvalidOperationException($"model '{Name}' returned {sv?.GetType().Name ?? "nothing"} for '{field}'; SpanLabels is a list of SpanLabel(start, end, label).");
                    var bad = spans.FirstOrDefault(s => s.Start < 0 || s.End > d.Text.Length || s.Start > s.End);
                    if (bad is not null) throw new InvalidOperationException($"model '{Name}' returned span [{bad.Start}, {bad.End}) outside the text of {d.Text.Length} characters.");
                    return new Prediction { Task = Task, Tokens = tokens, Spans = spans.Select(s => new SpanPrediction(s.Start, s.End, s.Label, d.Text[s.Start..s.End])).ToArray() };
                }
            }
        }
        catch (InvalidOperationException e)
        {
            throw new ApiException(502, "model_failed", e.Message);
        }
    }

    private (IReadOnlyList<string> Targets, string Default) CustomTargets(Prediction p) => Task == ServedTasks.Regression
        ? (["value"], "value")
        : (Labels, Labels[p.LabelIndex ?? 0]);

    private SalienceResult CustomInterpret(Datapoint d, string method, string target, ExplainerOptions options)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (Custom is TokenizedTextModel t)
        {
            var explainer = (PairwiseSequenceClassificationExplainer)(_explainer ??= new PairwiseSequenceClassificationExplainer(t.Model, t.Tokenizer));
            var e = string.IsNullOrEmpty(d.Pair) ? explainer.Explain(d.Text, className: target, options: options) : explainer.Explain(d.Text, d.Pair, className: target, options: options);
            var a = e.Attribution;
            return new SalienceResult(method, a.Target,
                a.Tokens.Select(x => new SalienceToken(x.Token, x.Start, x.End, x.Sequence, x.IsSpecial, Finite(x.Score), Finite(x.Raw))).ToArray(),
                a.Words.Select(w => new SalienceWord(w.Word, w.Start, w.End, w.Sequence, w.TokenIndices, Finite(w.Score), Finite(w.Raw))).ToArray(),
                null, e.Warnings, started.Elapsed.TotalSeconds);
        }
        string output = Task == ServedTasks.Regression ? CustomSpec.OutputOf(FieldType.RegressionScoreType)! : CustomSpec.OutputOf(FieldType.MulticlassPredsType)!;
        int index = Task == ServedTasks.Regression ? 0 : Labels.ToList().IndexOf(target);
        IReadOnlyList<WordScore> words;
        try
        {
            words = WordPerturbation.Attribute(Custom!, ToFields(d), CustomSpec.TextInputs[0], output, index, method, options.Samples, seed: 0);
        }
        catch (InvalidOperationException e) { throw new ApiException(502, "model_failed", e.Message); }
        catch (ArgumentException e) { throw new ApiException(400, "bad_input", e.Message); }
        var tokens = words.Select(w => new SalienceToken(w.Word, w.Start, w.End, 0, false, Finite(w.Score), Finite(w.Raw))).ToArray();
        var grouped = words.Select((w, i) => new SalienceWord(w.Word, w.Start, w.End, 0, [i], Finite(w.Score), Finite(w.Raw))).ToArray();
        IReadOnlyList<string> warnings = string.IsNullOrEmpty(d.Pair) ? [] : [$"only '{CustomSpec.TextInputs[0]}' is perturbed; the pair is kept as it is."];
        return new SalienceResult(method, target, tokens, grouped, null, warnings, started.Elapsed.TotalSeconds);
    }

    /// <summary>The custom model's Embeddings output for one datapoint. Call while holding Gate.</summary>
    public double[] CustomEmbedding(Datapoint d)
    {
        string field = CustomSpec.OutputOf(FieldType.EmbeddingsType)
            ?? throw new ApiException(400, "no_projections", $"model '{Name}' declares no Embeddings output; the projector needs one.");
        var o = Custom!.Predict([ToFields(d)]);
        object? v = o.Count == 1 && o[0].TryGetValue(field, out var x) ? x : null;
        double[] e = v switch
        {
            IReadOnlyList<double> l => l.ToArray(),
            IReadOnlyList<float> l => l.Select(f => (double)f).ToArray(),
            _ => throw new ApiException(502, "model_failed", $"model '{Name}' returned {v?.GetType().Name ?? "nothing"} for '{field}'; Embeddings is a double[] or float[]."),
        };
        if (e.Length == 0 || e.Any(z => !double.IsFinite(z))) throw new ApiException(502, "model_failed", $"model '{Name}' returned an empty or non-finite embedding for '{field}'.");
        return e;
    }
}
