// An ONNX export of a text classifier as a black-box explainable model. ONNX Runtime gives no
// gradients with respect to inner activations, so this model has no hooks: perturbation methods
// (occlusion, LIME, KernelSHAP), predictions, metrics and counterfactuals work; gradient methods
// refuse it with the message in ModelChecks.RequireGradients.
//
// The graph's inputs are matched by name the way transformers' ONNX exports name them:
// input_ids (required), attention_mask and token_type_ids (optional), int64 or int32. The output is
// `logits` (or the only output) of shape [batch, classes]; scores are its softmax or sigmoid.
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = Glassbox.Tensors.Tensor;

namespace Glassbox.Onnx;

/// <summary>A text classifier exported to ONNX, run by ONNX Runtime (CPU) as a black box.</summary>
public sealed class OnnxClassifier : IExplainableModel, IDisposable
{
    private static readonly string[] KnownInputs = ["input_ids", "attention_mask", "token_type_ids"];

    private readonly InferenceSession _session;
    private readonly string _outputName;
    private readonly Dictionary<string, TensorElementType> _inputTypes;

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>How logits become scores (softmax for single-label, sigmoid for multi-label, none for regression).</summary>
    public OutputTransform Transform { get; }

    /// <summary>Always false: ONNX Runtime gives no gradients with respect to activations.</summary>
    public bool SupportsGradients => false;

    /// <summary>Always null: a black box has no hook points.</summary>
    public HookSet? Hooks => null;

    /// <summary>The graph's input names, in the order the file declares them.</summary>
    public IReadOnlyList<string> InputNames { get; }

    private OnnxClassifier(InferenceSession session, string path, IReadOnlyList<string> labels, OutputTransform transform, string outputName)
    {
        _session = session;
        Name = path;
        OutputNames = labels;
        Transform = transform;
        _outputName = outputName;
        InputNames = session.InputMetadata.Keys.ToArray();
        _inputTypes = session.InputMetadata.ToDictionary(kv => kv.Key, kv => kv.Value.ElementDataType);
    }

    /// <summary>Opens <paramref name="path"/> (a .onnx file, or a folder holding model.onnx).
    /// Labels come from <paramref name="labels"/>, else from id2label in a config.json beside the file,
    /// else LABEL_0…; the transform from <paramref name="transform"/>, else config.json's problem_type
    /// (multi_label_classification → sigmoid, regression → none), else softmax.</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="ArgumentException">the graph's inputs or outputs are not those of a text classifier (the message lists them).</exception>
    public static OnnxClassifier Load(string path, IReadOnlyList<string>? labels = null, OutputTransform? transform = null, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Directory.Exists(path) ? Path.Combine(path, "model.onnx") : path;
        if (!File.Exists(file))
            throw new FileNotFoundException($"ONNX model '{file}' was not found; give a .onnx file or a folder containing model.onnx.", file);

        var (configLabels, configTransform) = ReadConfig(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var options = new SessionOptions { IntraOpNumThreads = threads ?? Parallelism.ThreadCount, InterOpNumThreads = 1 };
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        InferenceSession session;
        try
        {
            session = new InferenceSession(file, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ArgumentException($"'{file}' is not an ONNX model ONNX Runtime can load: {e.Message}", nameof(path), e);
        }
        finally
        {
            options.Dispose();
        }

        try
        {
            var inputs = session.InputMetadata;
            var unexpected = inputs.Keys.Where(k => !KnownInputs.Contains(k)).ToArray();
            if (!inputs.ContainsKey("input_ids") || unexpected.Length > 0)
                throw new ArgumentException(
                    $"'{file}' has inputs {Describe(inputs)}; a text classifier needs input_ids and may have attention_mask and token_type_ids"
                    + (unexpected.Length > 0 ? $" (unexpected: {string.Join(", ", unexpected)})" : "") + ". Export it with those input names.", nameof(path));
            foreach (var (name, meta) in inputs)
            {
                if (meta.ElementDataType is not (TensorElementType.Int64 or TensorElementType.Int32) || meta.Dimensions.Length != 2)
                    throw new ArgumentException($"'{file}' input '{name}' is {meta.ElementDataType} with {meta.Dimensions.Length} dimensions; Glassbox needs int64 or int32 [batch, sequence].", nameof(path));
            }

            var outputs = session.OutputMetadata;
            string outputName = outputs.ContainsKey("logits") ? "logits"
                : outputs.Count == 1 ? outputs.Keys.First()
                : throw new ArgumentException($"'{file}' has outputs {Describe(outputs)} and none is named 'logits'; Glassbox needs the classifier's logits [batch, classes].", nameof(path));
            var outMeta = outputs[outputName];
            if (outMeta.ElementDataType != TensorElementType.Float || outMeta.Dimensions.Length != 2)
                throw new ArgumentException($"'{file}' output '{outputName}' is {outMeta.ElementDataType} with {outMeta.Dimensions.Length} dimensions; Glassbox needs float32 logits [batch, classes].", nameof(path));

            int classes = outMeta.Dimensions[1];
            var names = labels ?? configLabels;
            if (names is null)
            {
                if (classes <= 0)
                    throw new ArgumentException($"'{file}' has a dynamic class dimension and no config.json with id2label beside it; pass the labels.", nameof(path));
                names = Enumerable.Range(0, classes).Select(i => $"LABEL_{i}").ToArray();
            }
            else if (classes > 0 && names.Count != classes)
                throw new ArgumentException($"{names.Count} labels were given ({string.Join(", ", names)}) but '{file}' outputs {classes} classes.", nameof(labels));

            return new OnnxClassifier(session, file, names, transform ?? configTransform ?? OutputTransform.Softmax, outputName);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Raw logits [batch, classes] for a batch of token inputs.</summary>
    public float[,] Logits(ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int b = input.Batch, s = input.SeqLength;
        var feeds = new List<NamedOnnxValue>(3);
        foreach (var name in InputNames)
        {
            int[] values = name switch
            {
                "input_ids" => input.InputIds,
                "attention_mask" => input.AttentionMask ?? Enumerable.Repeat(1, b * s).ToArray(),
                _ => input.TokenTypeIds ?? new int[b * s],
            };
            feeds.Add(_inputTypes[name] == TensorElementType.Int64
                ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(Array.ConvertAll(values, v => (long)v), [b, s]))
                : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(values, [b, s])));
        }
        using var results = _session.Run(feeds, [_outputName]);
        var t = results[0].AsTensor<float>();
        if (t.Rank != 2 || t.Dimensions[0] != b)
            throw new InvalidOperationException($"'{Name}' returned {_outputName} of shape [{string.Join(", ", t.Dimensions.ToArray())}] for a batch of {b}; expected [{b}, classes].");
        int c = t.Dimensions[1];
        if (c != OutputNames.Count)
            throw new InvalidOperationException($"'{Name}' returned {c} classes but has {OutputNames.Count} labels ({string.Join(", ", OutputNames)}).");
        var logits = new float[b, c];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < c; j++) logits[i, j] = t[i, j];
        return logits;
    }

    /// <summary>Scores [batch, classes]: softmax (or sigmoid / identity) of the logits. Never records on a tape.</summary>
    public Tensor Predict(ModelInput input)
    {
        var logits = Logits(input);
        int b = logits.GetLength(0), c = logits.GetLength(1);
        var flat = new float[b * c];
        Buffer.BlockCopy(logits, 0, flat, 0, flat.Length * sizeof(float));
        using var _ = Tape.NoGrad();
        using var raw = Tensor.FromArray(flat, [b, c]);
        return Transform switch
        {
            OutputTransform.Softmax => Ops.Softmax(raw, -1),
            OutputTransform.Sigmoid => Ops.Sigmoid(raw),
            _ => Ops.Mul(raw, 1f),
        };
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        string.Join(", ", nodes.Select(kv => $"{kv.Key} ({kv.Value.ElementDataType} [{string.Join(", ", kv.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}])"));

    private static (IReadOnlyList<string>? Labels, OutputTransform? Transform) ReadConfig(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            IReadOnlyList<string>? labels = null;
            if (doc.RootElement.TryGetProperty("id2label", out var id2) && id2.ValueKind == JsonValueKind.Object)
            {
                var pairs = id2.EnumerateObject().Select(p => (Id: int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture), Label: p.Value.GetString() ?? p.Name)).OrderBy(p => p.Id).ToArray();
                if (pairs.Select(p => p.Id).SequenceEqual(Enumerable.Range(0, pairs.Length))) labels = pairs.Select(p => p.Label).ToArray();
            }
            OutputTransform? transform = doc.RootElement.TryGetProperty("problem_type", out var pt) ? pt.GetString() switch
            {
                "multi_label_classification" => OutputTransform.Sigmoid,
                "regression" => OutputTransform.None,
                _ => OutputTransform.Softmax,
            } : null;
            return (labels, transform);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"'{path}' beside the ONNX model is not a valid config.json: {e.Message}", e);
        }
    }
}
