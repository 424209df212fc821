// The extension API's vocabulary, after LIT's `lit_nlp.api.types`: a model declares the fields it
// reads (input spec) and writes (output spec), a dataset declares the fields its examples carry, and
// the web app picks the interpreters, metrics and modules that fit those fields. Model authors need
// only this namespace (and Glassbox.Explain) for the model itself; registering it with the web app is
// Glassbox.Server's GlassboxApp.
//
// Types are named as LIT names them (TextSegment, MulticlassPreds, ...) so a spec reads the same in
// both; a field is a small record (type name, label vocabulary, the gold field it is compared with,
// whether it is required) rather than a class hierarchy, so the server can refuse an unknown type by
// listing the known ones.
namespace Glassbox.Explain.Extensions;

/// <summary>One field of a spec: its LIT-style type and what goes with it. Build one with the static factories.</summary>
/// <param name="Type">The type name, one of <see cref="FieldType.Known"/>.</param>
/// <param name="Vocab">Class names (MulticlassPreds, CategoryLabel).</param>
/// <param name="Parent">For outputs: the dataset field holding the gold value it is scored against (metrics).</param>
/// <param name="Required">For inputs: false when the model can run without it (an optional second segment).</param>
/// <param name="Align">For SpanLabels / TokenGradients: the Tokens field the positions refer to.</param>
public sealed record FieldType(string Type, IReadOnlyList<string>? Vocab = null, string? Parent = null, bool Required = true, string? Align = null)
{
    /// <summary>Text: an input segment or a dataset text column (LIT TextSegment).</summary>
    public const string TextSegmentType = "TextSegment";
    /// <summary>A list of token strings (LIT Tokens).</summary>
    public const string TokensType = "Tokens";
    /// <summary>A gold class name (LIT CategoryLabel).</summary>
    public const string CategoryLabelType = "CategoryLabel";
    /// <summary>A gold number (LIT Scalar).</summary>
    public const string ScalarType = "Scalar";
    /// <summary>Probabilities over a fixed label vocabulary, summing to 1 (LIT MulticlassPreds).</summary>
    public const string MulticlassPredsType = "MulticlassPreds";
    /// <summary>One predicted number (LIT RegressionScore).</summary>
    public const string RegressionScoreType = "RegressionScore";
    /// <summary>Labelled character spans of the text (LIT SpanLabels).</summary>
    public const string SpanLabelsType = "SpanLabels";
    /// <summary>Generated text (LIT GeneratedText).</summary>
    public const string GeneratedTextType = "GeneratedText";
    /// <summary>A fixed-size vector per example (LIT Embeddings); enables the projector.</summary>
    public const string EmbeddingsType = "Embeddings";
    /// <summary>A gradient per token (LIT TokenGradients); only meaningful for a model that has gradients.</summary>
    public const string TokenGradientsType = "TokenGradients";
    /// <summary>An example id (datasets).</summary>
    public const string IdType = "Id";

    /// <summary>Every type the server understands; any other is refused with this list.</summary>
    public static IReadOnlyList<string> Known { get; } =
    [
        TextSegmentType, TokensType, CategoryLabelType, ScalarType, MulticlassPredsType, RegressionScoreType,
        SpanLabelsType, GeneratedTextType, EmbeddingsType, TokenGradientsType, IdType,
    ];

    /// <summary>Types a model may read.</summary>
    public static IReadOnlyList<string> KnownInputs { get; } = [TextSegmentType];

    /// <summary>Types a model may write.</summary>
    public static IReadOnlyList<string> KnownOutputs { get; } =
        [TokensType, MulticlassPredsType, RegressionScoreType, SpanLabelsType, GeneratedTextType, EmbeddingsType, TokenGradientsType];

    /// <summary>Types a dataset field may have.</summary>
    public static IReadOnlyList<string> KnownDataFields { get; } = [IdType, TextSegmentType, CategoryLabelType, ScalarType];

    /// <summary>A text segment; <paramref name="required"/> false for an optional second segment.</summary>
    public static FieldType TextSegment(bool required = true) => new(TextSegmentType, Required: required);

    /// <summary>Token strings (an output the salience view can align to).</summary>
    public static FieldType Tokens() => new(TokensType);

    /// <summary>A gold class name among <paramref name="vocab"/> (null: any).</summary>
    public static FieldType CategoryLabel(IReadOnlyList<string>? vocab = null) => new(CategoryLabelType, vocab);

    /// <summary>A gold number.</summary>
    public static FieldType Scalar() => new(ScalarType);

    /// <summary>Probabilities over <paramref name="labels"/>, scored against the dataset field <paramref name="parent"/>.</summary>
    public static FieldType MulticlassPreds(IReadOnlyList<string> labels, string? parent = "label")
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new(MulticlassPredsType, labels, parent);
    }

    /// <summary>A predicted number, scored against the dataset field <paramref name="parent"/>.</summary>
    public static FieldType RegressionScore(string? parent = "label") => new(RegressionScoreType, Parent: parent);

    /// <summary>Labelled character spans of the input text.</summary>
    public static FieldType SpanLabels(string? parent = null) => new(SpanLabelsType, Parent: parent);

    /// <summary>Generated text, compared with the dataset field <paramref name="parent"/> when given.</summary>
    public static FieldType GeneratedText(string? parent = null) => new(GeneratedTextType, Parent: parent);

    /// <summary>A vector per example (pooled representation); turns on the PCA/UMAP projector.</summary>
    public static FieldType Embeddings() => new(EmbeddingsType);

    /// <summary>Token gradients aligned to the Tokens field <paramref name="align"/>.</summary>
    public static FieldType TokenGradients(string align = "tokens") => new(TokenGradientsType, Align: align);
}

/// <summary>A labelled span of the input text: characters [Start, End).</summary>
public sealed record SpanLabel(int Start, int End, string Label);

/// <summary>Thrown when a spec cannot be served; the message names the model or dataset, the field and the way out.</summary>
public sealed class SpecException(string message) : Exception(message);

/// <summary>What a model reads and writes, and whether it can be differentiated (LIT's input_spec / output_spec).</summary>
public sealed class ModelSpec
{
    /// <summary>Creates a spec. <paramref name="gradients"/> declares that gradient methods may be asked of the model
    /// (only a model that is also an <see cref="IExplainableModel"/> with hooks can honour it).</summary>
    public ModelSpec(IReadOnlyDictionary<string, FieldType> input, IReadOnlyDictionary<string, FieldType> output, bool gradients = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Input = input;
        Output = output;
        Gradients = gradients;
    }

    /// <summary>Fields the model reads, by name.</summary>
    public IReadOnlyDictionary<string, FieldType> Input { get; }

    /// <summary>Fields the model writes, by name.</summary>
    public IReadOnlyDictionary<string, FieldType> Output { get; }

    /// <summary>True when gradients (and so gradient attribution methods) are available.</summary>
    public bool Gradients { get; }

    /// <summary>The TextSegment inputs in declaration order: the text, then the optional second segment.</summary>
    public IReadOnlyList<string> TextInputs => Input.Where(kv => kv.Value.Type == FieldType.TextSegmentType).Select(kv => kv.Key).ToArray();

    /// <summary>The first output of <paramref name="type"/>, or null.</summary>
    public string? OutputOf(string type) => Output.FirstOrDefault(kv => kv.Value.Type == type).Key;

    /// <summary>Checks every field: known types, one or two text inputs, a label vocabulary for MulticlassPreds, and
    /// at least one prediction output. <paramref name="model"/> names the model in messages.</summary>
    /// <exception cref="SpecException">the message names the field and lists the known types.</exception>
    public void Validate(string model)
    {
        foreach (var (name, f) in Input)
        {
            if (f is null) throw new SpecException($"model '{model}' input '{name}' has no type.");
            if (!FieldType.KnownInputs.Contains(f.Type))
                throw new SpecException(FieldType.Known.Contains(f.Type)
                    ? $"model '{model}' input '{name}' is {f.Type}, which the server cannot feed to a model; inputs are {string.Join(", ", FieldType.KnownInputs)}."
                    : $"model '{model}' input '{name}' has type '{f.Type}', which the server does not know; known types: {string.Join(", ", FieldType.Known)}.");
        }
        var texts = TextInputs;
        if (texts.Count is 0 or > 2)
            throw new SpecException($"model '{model}' reads {texts.Count} TextSegment fields; the server feeds one text or a text pair (two TextSegment inputs, the second may be optional).");
        if (!Input[texts[0]].Required)
            throw new SpecException($"model '{model}' input '{texts[0]}' (its first text) is optional; the first TextSegment must be required.");
        foreach (var (name, f) in Output)
        {
            if (f is null) throw new SpecException($"model '{model}' output '{name}' has no type.");
            if (!FieldType.KnownOutputs.Contains(f.Type))
                throw new SpecException(FieldType.Known.Contains(f.Type)
                    ? $"model '{model}' output '{name}' is {f.Type}, which is a dataset field, not a model output; outputs are {string.Join(", ", FieldType.KnownOutputs)}."
                    : $"model '{model}' output '{name}' has type '{f.Type}', which the server does not know; known output types: {string.Join(", ", FieldType.KnownOutputs)}.");
            if (f.Type == FieldType.MulticlassPredsType && f.Vocab is not { Count: > 0 })
                throw new SpecException($"model '{model}' output '{name}' is MulticlassPreds with no labels; give them: FieldType.MulticlassPreds([\"negative\", \"positive\"]).");
            if (f.Type == FieldType.MulticlassPredsType && f.Vocab!.Distinct().Count() != f.Vocab!.Count)
                throw new SpecException($"model '{model}' output '{name}' repeats a label ({string.Join(", ", f.Vocab!)}); labels must be distinct.");
        }
        string[] primary = [FieldType.MulticlassPredsType, FieldType.RegressionScoreType, FieldType.GeneratedTextType, FieldType.SpanLabelsType];
        if (!Output.Values.Any(f => primary.Contains(f.Type)))
            throw new SpecException($"model '{model}' declares no prediction output; declare one of {string.Join(", ", primary)}.");
        if (Output.Values.Count(f => f.Type == FieldType.MulticlassPredsType) > 1 || Output.Values.Count(f => f.Type == FieldType.RegressionScoreType) > 1)
            throw new SpecException($"model '{model}' declares more than one MulticlassPreds or RegressionScore output; the app shows one of each.");
    }
}

/// <summary>Named field values of one example (inputs) or one prediction (outputs), as LIT's dicts.
/// Inputs hold strings; outputs hold what their type says: probabilities (double[] or float[]),
/// a number, token strings, generated text, spans (<see cref="SpanLabel"/>) or an embedding vector.</summary>
public sealed class FieldValues : Dictionary<string, object?>
{
    /// <summary>An empty set of fields.</summary>
    public FieldValues() : base(StringComparer.Ordinal) { }

    /// <summary>A copy of <paramref name="values"/>.</summary>
    public FieldValues(IReadOnlyDictionary<string, object?> values) : base(StringComparer.Ordinal)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var (k, v) in values) this[k] = v;
    }

    /// <summary>The text of field <paramref name="name"/> ("" when absent).</summary>
    public string Text(string name) => TryGetValue(name, out var v) && v is string s ? s : "";
}

/// <summary>A model given as C# code: it declares its spec and predicts a batch of examples, like a LIT model.
/// Register it with <c>GlassboxApp.Create().AddModel("name", model)</c>; the web app then offers the
/// interpreters, metrics and modules that fit its spec.</summary>
public interface ITextModel
{
    /// <summary>The fields the model reads and writes. Read once when the model is registered.</summary>
    ModelSpec Spec { get; }

    /// <summary>One output per input, in order. Each input holds the spec's TextSegment fields (the optional second
    /// segment may be absent); each output holds the spec's output fields.</summary>
    IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs);
}
