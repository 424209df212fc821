// transformers-interpret's SequenceClassificationExplainer, PairwiseSequenceClassificationExplainer
// and MultiLabelClassificationExplainer. The forward explained is softmax(logits)[:, class] (sigmoid
// for a single-output model, and per label for multi-label); the text is cleaned first (spaces
// around punctuation) except for pairs, as transformers-interpret does. Differences on purpose: an
// unknown class name is an error listing the valid names (transformers-interpret warns and explains
// the predicted class), and over-long inputs are truncated with a warning.
using Glassbox.Models;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Explainers;

/// <summary>Shared by the text explainers: the model, the tokenizer and default options.</summary>
public abstract class TextExplainer
{
    private protected TextExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath, ExplainerOptions? options, SpecialTokenIds? specialTokens)
    {
        ArgumentNullException.ThrowIfNull(model); ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        Options = options ?? new ExplainerOptions();
        Model = new ExplainerModel(model, tokenizer, modelPath, specialTokens);
    }

    private protected TextExplainer(IExplainableModel model, Tokenizer tokenizer, ExplainerOptions? options, SpecialTokenIds? specialTokens, int? maxTokens)
    {
        ArgumentNullException.ThrowIfNull(model); ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        Options = options ?? new ExplainerOptions();
        Model = new ExplainerModel(model, tokenizer, specialTokens, maxTokens);
    }

    public Tokenizer Tokenizer { get; }
    /// <summary>Defaults for Explain calls that pass no options.</summary>
    public ExplainerOptions Options { get; }
    /// <summary>Class names in id order.</summary>
    public IReadOnlyList<string> Labels => Model.Labels;
    public SpecialTokenIds SpecialTokens => Model.Specials;
    /// <summary>The most tokens one input may have (special tokens included).</summary>
    public int MaxTokens => Model.MaxTokens;

    internal ExplainerModel Model { get; }

    private protected int MaxLength(ExplainerOptions o) => Math.Min(o.MaxLength ?? int.MaxValue, Model.MaxTokens);

    /// <summary>Raw model output of the ids alone (logits for a transformer, scores for a black box).</summary>
    private protected float[] PlainOutput(ExplainerInput x, Func<ModelOutput, Tensor>? select = null)
    {
        using var _ = Tape.NoGrad();
        if (Model.Transformer is { } t)
        {
            ModelOutput output;
            lock (t) output = t.Forward(x.Plain());
            var logits = select is null ? output.Logits ?? throw new InvalidOperationException($"{t.ArchitectureName} has no classification logits.") : select(output);
            return logits.ToArray();
        }
        return Model.BlackBox!.Predict(x.Input(Model)).ToArray();
    }

    private protected static void RequireTransformer(ExplainerModel m, string explainer)
    {
        if (m.Transformer is null) throw new NotSupportedException($"{explainer} needs a Glassbox transformer model (it reads the model's structured outputs).");
    }

    internal static double[] Softmax(float[] logits)
    {
        double max = logits.Max(v => (double)v);
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    internal static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    internal static int ArgMax(IReadOnlyList<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Count; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

public class SequenceClassificationExplainer : TextExplainer
{
    public SequenceClassificationExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) { }

    /// <summary>Any explainable model (a black box: its Predict returns class probabilities). Gradient methods need SupportsGradients.</summary>
    public SequenceClassificationExplainer(IExplainableModel model, Tokenizer tokenizer, ExplainerOptions? options = null,
        SpecialTokenIds? specialTokens = null, int? maxTokens = null)
        : base(model, tokenizer, options, specialTokens, maxTokens) { }

    /// <summary>Loads model and tokenizer from a Hugging Face folder.</summary>
    public static SequenceClassificationExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    /// <summary>Explains the predicted class, or the class given by index or className.</summary>
    public SequenceClassificationExplanation Explain(string text, int? index = null, string? className = null, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(text, "text");
        var o = options ?? Options;
        var piece = TextPiece.Encode(Tokenizer, text, clean: true);
        var parts = ExplainerInput.TemplateParts(Tokenizer, piece, null);
        var x = ExplainerInput.Build(Tokenizer, parts, Model.Specials.Pad, _ => piece.Count, MaxLength(o), o.Truncate, "The text");
        return ExplainInput(x, text, null, index, className, flipSign: false, o, nameof(SequenceClassificationExplainer));
    }

    private protected SequenceClassificationExplanation ExplainInput(ExplainerInput x, string text, string? pair, int? index, string? className,
        bool flipSign, ExplainerOptions o, string explainer)
    {
        var outputs = PlainOutput(x);
        bool singleNode = outputs.Length == 1;
        var probs = Model.Transformer is null ? outputs.Select(v => (double)v).ToArray()
            : singleNode ? [Sigmoid(outputs[0])] : Softmax(outputs);
        // transformers-interpret's predicted_class_index is argmax of a softmax, hence 0 for one output.
        int predicted = ArgMax(probs);
        int selected = predicted;
        if (index is { } ix) { Model.CheckIndex(ix); selected = ix; }
        else if (className is not null) selected = Model.LabelIndex(className);

        var warnings = new List<string>(x.Warnings);
        var scorer = Model.Scorer(singleNode ? OutputTransform.Sigmoid : OutputTransform.Softmax);
        int target = singleNode ? 0 : selected;
        var raw = ExplainerCore.Run(Model, scorer, x, target, o, EmbeddingType.Word, query: 0, warnings);
        bool flip = flipSign && singleNode;
        if (flipSign && !singleNode)
            warnings.Add("flipSign applies to single-output models only (as in transformers-interpret); it was ignored.");
        string name = LabelName(selected);
        var attribution = ExplainerCore.Summarize(x, raw, name, selected, o, flip);
        return new SequenceClassificationExplanation
        {
            Text = text, Pair = pair, Labels = Model.Labels, Probabilities = probs,
            PredictedClassIndex = predicted, PredictedClassName = LabelName(predicted), PredictedProbability = probs[Math.Min(predicted, probs.Length - 1)],
            AttributedClassIndex = selected, AttributedClassName = name, FlipSign = flip, Attribution = attribution,
            Warnings = warnings,
            Provenance = Model.Provenance(explainer, o.Method, ExplainerCore.Parameters(o, raw.Detail,
                ("target", name), ("forward", singleNode ? "sigmoid" : "softmax"), ("flipSign", flip ? "true" : null))),
        };
    }

    private string LabelName(int i) => i >= 0 && i < Model.Labels.Count ? Model.Labels[i] : $"LABEL_{i}";
}

public sealed class PairwiseSequenceClassificationExplainer : SequenceClassificationExplainer
{
    public PairwiseSequenceClassificationExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) { }

    public PairwiseSequenceClassificationExplainer(IExplainableModel model, Tokenizer tokenizer, ExplainerOptions? options = null,
        SpecialTokenIds? specialTokens = null, int? maxTokens = null)
        : base(model, tokenizer, options, specialTokens, maxTokens) { }

    public static new PairwiseSequenceClassificationExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    /// <summary>Explains a model that reads two texts (a cross-encoder). flipSign negates the attributions of a
    /// single-output model, to explain a score near 0 (dissimilarity) instead of near 1.</summary>
    public SequenceClassificationExplanation Explain(string text1, string text2, int? index = null, string? className = null,
        bool flipSign = false, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(text1, "text1");
        ExplainerCore.CheckText(text2, "text2");
        var o = options ?? Options;
        var a = TextPiece.Encode(Tokenizer, text1, clean: false);
        var b = TextPiece.Encode(Tokenizer, text2, clean: false);
        var parts = ExplainerInput.TemplateParts(Tokenizer, a, b);
        var x = ExplainerInput.Build(Tokenizer, parts, Model.Specials.Pad, _ => a.Count + 1, MaxLength(o), o.Truncate, "The text pair");
        return ExplainInput(x, text1, text2, index, className, flipSign, o, nameof(PairwiseSequenceClassificationExplainer));
    }
}

public sealed class MultiLabelClassificationExplainer : TextExplainer
{
    public MultiLabelClassificationExplainer(TransformerModel model, Tokenizer tokenizer, string? modelPath = null,
        ExplainerOptions? options = null, SpecialTokenIds? specialTokens = null)
        : base(model, tokenizer, modelPath, options, specialTokens) { }

    /// <summary>A black box whose Predict returns one independent probability per label.</summary>
    public MultiLabelClassificationExplainer(IExplainableModel model, Tokenizer tokenizer, ExplainerOptions? options = null,
        SpecialTokenIds? specialTokens = null, int? maxTokens = null)
        : base(model, tokenizer, options, specialTokens, maxTokens) { }

    public static MultiLabelClassificationExplainer FromPretrained(string directory, ExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), Tokenizer.FromPretrained(directory), directory, options);

    /// <summary>Attributions for every label independently, each for sigmoid(logit of the label).</summary>
    public MultiLabelClassificationExplanation Explain(string text, ExplainerOptions? options = null)
    {
        ExplainerCore.CheckText(text, "text");
        var o = options ?? Options;
        var piece = TextPiece.Encode(Tokenizer, text, clean: true);
        var parts = ExplainerInput.TemplateParts(Tokenizer, piece, null);
        var x = ExplainerInput.Build(Tokenizer, parts, Model.Specials.Pad, _ => piece.Count, MaxLength(o), o.Truncate, "The text");
        var outputs = PlainOutput(x);
        var probs = Model.Transformer is null ? outputs.Select(v => (double)v).ToArray() : outputs.Select(v => Sigmoid(v)).ToArray();
        var warnings = new List<string>(x.Warnings);
        var scorer = Model.Scorer(OutputTransform.Sigmoid);
        var labels = new List<LabelAttribution>();
        string detail = "";
        for (int i = 0; i < probs.Length; i++)
        {
            string name = i < Model.Labels.Count ? Model.Labels[i] : $"LABEL_{i}";
            var raw = ExplainerCore.Run(Model, scorer, x, i, o, EmbeddingType.Word, query: 0, warnings);
            detail = raw.Detail;
            labels.Add(new LabelAttribution(name, i, probs[i], ExplainerCore.Summarize(x, raw, name, i, o)));
        }
        return new MultiLabelClassificationExplanation
        {
            Text = text, Labels = labels, Warnings = warnings.Distinct().ToList(),
            Provenance = Model.Provenance(nameof(MultiLabelClassificationExplainer), o.Method, ExplainerCore.Parameters(o, detail, ("forward", "sigmoid per label"))),
        };
    }
}
