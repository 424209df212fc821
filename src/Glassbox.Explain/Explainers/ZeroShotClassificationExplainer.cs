// transformers-interpret's ZeroShotClassificationExplainer: an NLI model reads
// [cls] premise [sep] hypothesis [sep] (one separator, as transformers-interpret builds it, also for
// RoBERTa) with the hypothesis "this text is about {label} ."; each label is explained through the
// softmax probability of the entailment class, and the predicted label is the one whose entailment
// logit is highest. Token types follow transformers-interpret (0 up to index len(premise tokens)).
// The returned tokens are the premise's, normalised over them alone. One deliberate difference:
// transformers-interpret cuts at index len(premise tokens) and so drops the premise's last token;
// here only a trailing whitespace-only token is dropped (which is the token transformers-interpret
// drops when the cleaned premise ends with punctuation, so such inputs agree exactly).
using Glassbox.Models;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

public sealed class ZeroShotClassificationExplainer : TextExplainer
{
    public const string DefaultHypothesisTemplate = "this text is about {} .";

    public ZeroShotClassificationExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) => EntailmentIndex = FindEntailment();

    /// <summary>A black box whose Predict returns NLI class probabilities (one column named entailment).</summary>
    public ZeroShotClassificationExplainer(IExplainableModel model, Tokenizer tokenizer, ExplainerOptions? options = null,
        SpecialTokenIds? specialTokens = null, int? maxTokens = null)
        : base(model, tokenizer, options, specialTokens, maxTokens) => EntailmentIndex = FindEntailment();

    public static ZeroShotClassificationExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    /// <summary>The index of the model's entailment class.</summary>
    public int EntailmentIndex { get; }
    public string EntailmentLabel => Labels[EntailmentIndex];

    private int FindEntailment()
    {
        for (int i = 0; i < Labels.Count; i++) if (Labels[i] is "entailment" or "ENTAILMENT") return i;
        for (int i = 0; i < Labels.Count; i++) if (string.Equals(Labels[i], "entailment", StringComparison.OrdinalIgnoreCase)) return i;
        throw new ArgumentException($"Zero-shot classification needs an NLI model with an \"entailment\" label; this model's labels are: {string.Join(", ", Labels)}.");
    }

    /// <summary>Attributions of the premise for each candidate label's hypothesis.</summary>
    public ZeroShotClassificationExplanation Explain(string text, IReadOnlyList<string> labels, string hypothesisTemplate = DefaultHypothesisTemplate,
        bool includeHypothesis = false, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(text, "text");
        if (labels is null || labels.Count == 0)
            throw new ArgumentException("Zero-shot classification needs at least one candidate label (e.g. labels: [\"finance\", \"sports\", \"technology\"]).", nameof(labels));
        if (labels.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Zero-shot candidate labels must not be empty.", nameof(labels));
        if (hypothesisTemplate is null || !hypothesisTemplate.Contains("{}"))
            throw new ArgumentException($"The hypothesis template must contain {{}} where the label goes, e.g. \"{DefaultHypothesisTemplate}\"; got \"{hypothesisTemplate}\".", nameof(hypothesisTemplate));
        var o = options ?? Options;
        var warnings = new List<string>();
        var inputs = labels.Select(l => Input(text, hypothesisTemplate.Replace("{}", l), clean: true, o)).ToList();
        foreach (var x in inputs) warnings.AddRange(x.Warnings);

        // The prediction (on the text as given, not cleaned, as transformers-interpret makes it): the
        // entailment logit of each hypothesis through a sigmoid, normalised over the labels.
        var entail = new double[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            var outputs = ModelOutputs(Input(text, hypothesisTemplate.Replace("{}", labels[i]), clean: false, o));
            entail[i] = Model.Transformer is null ? outputs[EntailmentIndex] : Sigmoid(outputs[EntailmentIndex]);
        }
        double total = entail.Sum();
        int predicted = ArgMax(entail);

        var scorer = Model.Scorer(OutputTransform.Softmax);
        var result = new List<LabelAttribution>();
        string detail = "";
        for (int i = 0; i < labels.Count; i++)
        {
            var x = inputs[i];
            var raw = ExplainerCore.Run(Model, scorer, x, EntailmentIndex, o, EmbeddingType.Word, query: 0, warnings);
            detail = raw.Detail;
            int? end = null;
            if (!includeHypothesis)
            {
                int e = 1 + x.Sequence.Count(q => q == 0);
                while (e > 1 && !x.Special[e - 1] && x.DisplayToken(e - 1).Trim().Length == 0) e--;
                end = e;
            }
            result.Add(new LabelAttribution(labels[i], i, total == 0 ? 0 : entail[i] / total, ExplainerCore.Summarize(x, raw, labels[i], i, o, endIdx: end)));
        }
        return new ZeroShotClassificationExplanation
        {
            Text = text, HypothesisTemplate = hypothesisTemplate, IncludeHypothesis = includeHypothesis, Labels = result,
            PredictedLabel = labels[predicted], EntailmentLabel = EntailmentLabel, Warnings = warnings.Distinct().ToList(),
            Provenance = Model.Provenance(nameof(ZeroShotClassificationExplainer), o.Method, ExplainerCore.Parameters(o, detail,
                ("target", EntailmentLabel), ("hypothesisTemplate", hypothesisTemplate), ("forward", "softmax"))),
        };
    }

    private ExplainerInput Input(string text, string hypothesis, bool clean, ExplainerOptions o)
    {
        var premise = TextPiece.Encode(Tokenizer, text, clean);
        var hyp = TextPiece.Encode(Tokenizer, hypothesis, clean: false);
        var s = Model.Specials;
        var parts = new List<ExplainerInput.Part>
        {
            new ExplainerInput.SpecialPart(s.Cls), new ExplainerInput.TextPart(premise, 0), new ExplainerInput.SpecialPart(s.Sep),
            new ExplainerInput.TextPart(hyp, 1), new ExplainerInput.SpecialPart(s.Sep),
        };
        return ExplainerInput.Build(Tokenizer, parts, s.Pad, _ => premise.Count, MaxLength(o), o.Truncate, "The text with its hypothesis");
    }

    /// <summary>Logits of the input as transformers-interpret's _get_preds passes it (types and positions where the model takes them).</summary>
    private float[] ModelOutputs(ExplainerInput x)
    {
        using var _ = Glassbox.Tensors.Tape.NoGrad();
        if (Model.Transformer is { } t)
            lock (t) return (t.Forward(x.Input(Model)).Logits ?? throw new InvalidOperationException($"{t.ArchitectureName} has no classification logits.")).ToArray();
        return Model.BlackBox!.Predict(x.Input(Model)).ToArray();
    }
}
