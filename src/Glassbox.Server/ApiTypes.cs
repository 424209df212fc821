// Request and response bodies of the JSON API (camelCase on the wire), after LIT's: a datapoint is
// a small record of named fields, a model declares the fields it reads and writes, predictions and
// interpretations come back aligned with the inputs that produced them.
using System.Text.Json.Serialization;

namespace Glassbox.Server;

/// <summary>A request the server refuses: the HTTP status, a machine-readable code and a sentence saying what to change.</summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}

/// <summary>The body of every error response.</summary>
public sealed record ApiError(string Error, string Code, int Status);

/// <summary>One example: its text fields, a gold label when the dataset has one, and where it came from.</summary>
public sealed record Datapoint
{
    public string? Id { get; init; }
    public required string Text { get; init; }
    /// <summary>Second text: the pair (NLI, cross-encoders) or the context (question answering).</summary>
    public string? Pair { get; init; }
    /// <summary>Gold label (class name, tags, answer text or a number as text).</summary>
    public string? Label { get; init; }
    /// <summary>For added datapoints: the id of the example it was derived from.</summary>
    public string? ParentId { get; init; }
    /// <summary>How an added datapoint was made ("edit", a generator's name).</summary>
    public string? Source { get; init; }
    /// <summary>The dataset file's other columns (not text, pair, label or id) by name, as text; the
    /// projector colours by them and the metrics slice by them. Null when the file has none.</summary>
    public IReadOnlyDictionary<string, string>? Fields { get; init; }
}

public sealed record PredictRequest
{
    public string? Model { get; init; }
    /// <summary>Inline inputs; or Dataset + Ids (all examples when Ids is null).</summary>
    public IReadOnlyList<Datapoint>? Inputs { get; init; }
    public string? Dataset { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    public int? MaxNewTokens { get; init; }
}

public sealed record InterpretRequest
{
    public string? Model { get; init; }
    public Datapoint? Input { get; init; }
    /// <summary>Attribution methods by name (lig, saliency, ...); one result each.</summary>
    public IReadOnlyList<string>? Methods { get; init; }
    /// <summary>What to explain: a class name (classification, multi-label), "start"/"end" (QA), or a token index (token classification). Null = the prediction.</summary>
    public string? Target { get; init; }
    public int? Steps { get; init; }
    public int? Samples { get; init; }
    public bool? PerturbWords { get; init; }
}

public sealed record AttentionRequest
{
    public string? Model { get; init; }
    public Datapoint? Input { get; init; }
}

/// <summary>A field a model reads or writes, after LIT's types (TextSegment, MulticlassPreds, ...).</summary>
public sealed record FieldSpec(string Type, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Vocab = null,
    bool Required = true, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Parent = null);

public sealed partial record ModelInfo(
    string Name, string Source, string Architecture, string Task, IReadOnlyList<string> Labels,
    IReadOnlyDictionary<string, FieldSpec> InputSpec, IReadOnlyDictionary<string, FieldSpec> OutputSpec,
    IReadOnlyList<string> Interpreters, bool Attention, IReadOnlyList<string> Generators, IReadOnlyList<string> Metrics,
    IReadOnlyList<string> Projections, int MaxTokens);

public sealed record DatasetInfo(string Name, string File, int Size, IReadOnlyDictionary<string, FieldSpec> Spec, IReadOnlyList<string> Labels,
    IReadOnlyList<string> CompatibleModels);

public sealed record InfoResponse(string Version, IReadOnlyList<ModelInfo> Models, IReadOnlyList<DatasetInfo> Datasets, ServerLimits Limits);

public sealed record ServerLimits(long MaxRequestBytes, int MaxBatch, int MaxTextChars, int MaxNewTokens, int MaxSteps, int MaxSamples);

/// <summary>A model's output on one datapoint. Which fields are set depends on the task.</summary>
public sealed record Prediction
{
    public required string Task { get; init; }
    public required IReadOnlyList<string> Tokens { get; init; }
    public bool Truncated { get; init; }
    /// <summary>Classification / multi-label: probabilities per label (softmax / sigmoid).</summary>
    public IReadOnlyList<double>? Probabilities { get; init; }
    /// <summary>Classification: the top class; multi-label: labels above 0.5 joined by ','.</summary>
    public string? Label { get; init; }
    public int? LabelIndex { get; init; }
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Regression: the predicted value (the first output).</summary>
    public double? Value { get; init; }
    /// <summary>Token classification: a tag per token.</summary>
    public IReadOnlyList<TokenTag>? Tags { get; init; }
    /// <summary>Question answering: the best span of the context.</summary>
    public AnswerSpan? Answer { get; init; }
    /// <summary>Language models: the greedy continuation.</summary>
    public string? GeneratedText { get; init; }
    /// <summary>Span labelling (custom models declaring SpanLabels): labelled character spans of the text.</summary>
    public IReadOnlyList<SpanPrediction>? Spans { get; init; }
}

public sealed record TokenTag(int Index, string Token, string Tag, double Probability, int Start, int End, bool Special);

public sealed record AnswerSpan(string Text, int Start, int End, double Score);

public sealed record PredictResponse(string Model, IReadOnlyList<string?> Ids, IReadOnlyList<Prediction> Predictions, int Cached);

public sealed record SalienceToken(string Token, int Start, int End, int Sequence, bool Special, double Score, double Raw);

public sealed record SalienceWord(string Word, int Start, int End, int Sequence, int[] TokenIndices, double Score, double Raw);

public sealed record SalienceResult(string Method, string Target, IReadOnlyList<SalienceToken> Tokens, IReadOnlyList<SalienceWord> Words,
    double? ConvergenceDelta, IReadOnlyList<string> Warnings, double Seconds);

public sealed record InterpretResponse(string Model, IReadOnlyList<string> Targets, string Target, IReadOnlyList<SalienceResult> Results);

public sealed record AttentionResponse(string Model, IReadOnlyList<string> Tokens, int Layers, int Heads, float[][][][] Patterns);

public sealed record DatasetResponse(string Name, IReadOnlyDictionary<string, FieldSpec> Spec, int Total, int Offset, IReadOnlyList<Datapoint> Examples);

public sealed record SaveDatapointsRequest
{
    public string? Dataset { get; init; }
    public IReadOnlyList<Datapoint>? Datapoints { get; init; }
}

public sealed record DatapointsResponse(string Dataset, IReadOnlyList<Datapoint> Datapoints);

/// <summary>A labelled span [Start, End) of the input text, with the text it covers.</summary>
public sealed record SpanPrediction(int Start, int End, string Label, string Text);
