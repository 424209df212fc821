// Perturbation attributions for a model that reads text, not token ids (ITextModel): the features
// are the whitespace-separated words of the explained text field, as LIT's LIME splits a sentence
// (str.split()). A perturbed example is the text with the removed words left out; every other input
// field is kept as it was. The methods themselves are PerturbationMethods' (occlusion, LIME,
// KernelSHAP): each word is a "token id" of a batch-1 ModelInput whose ids are the word positions,
// and the adapter below turns a batch of perturbed rows back into texts and asks the model.
using System.Text.RegularExpressions;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Extensions;

/// <summary>A word of the explained text with its attribution: [Start, End) in characters, the raw score and the
/// score divided by the L2 norm of all raw scores (as the token explainers normalise).</summary>
public sealed record WordScore(string Word, int Start, int End, double Raw, double Score);

/// <summary>Occlusion, LIME and KernelSHAP over the words of one text field of an <see cref="ITextModel"/>.</summary>
public static partial class WordPerturbation
{
    /// <summary>The methods that work on any text model (no gradients).</summary>
    public static IReadOnlyList<string> Methods { get; } = ["occlusion", "lime", "kernel-shap"];

    /// <summary>The words of <paramref name="text"/> (maximal runs of non-space characters) with their spans.</summary>
    public static IReadOnlyList<(string Word, int Start, int End)> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WordPattern().Matches(text).Select(m => (m.Value, m.Index, m.Index + m.Length)).ToArray();
    }

    /// <summary>Attributions of the words of <paramref name="textField"/> to output <paramref name="target"/> of the
    /// model's output field <paramref name="outputField"/> (a class index of MulticlassPreds, or 0 for RegressionScore).</summary>
    /// <param name="method">occlusion, lime or kernel-shap.</param>
    /// <param name="samples">Perturbed samples for LIME and KernelSHAP (LIT's default is 256 for LIME).</param>
    /// <exception cref="ArgumentException">an unknown method, or a text with no words.</exception>
    public static IReadOnlyList<WordScore> Attribute(ITextModel model, FieldValues input, string textField, string outputField, int target,
        string method, int samples = 200, int seed = 0, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        string text = input.Text(textField);
        var words = Words(text);
        if (words.Count == 0) throw new ArgumentException($"field '{textField}' has no words to attribute.", nameof(input));
        var adapter = new WordModel(model, input, textField, outputField, words);
        // Ids are word positions + 1; 0 is the baseline "word removed".
        var ids = Enumerable.Range(1, words.Count).ToArray();
        var x = new ModelInput(1, words.Count, ids, Enumerable.Repeat(1, words.Count).ToArray());
        float[] raw = method switch
        {
            "occlusion" => PerturbationMethods.FeatureAblation(adapter, x, target, baselineId: 0, batchSize: batchSize),
            "lime" => PerturbationMethods.Lime(adapter, x, target, baselineId: 0, samples: samples, seed: seed, batchSize: batchSize),
            "kernel-shap" => PerturbationMethods.KernelShap(adapter, x, target, baselineId: 0, samples: samples, seed: seed, batchSize: batchSize),
            _ => throw new ArgumentException($"'{method}' is not a perturbation method for text models; use one of {string.Join(", ", Methods)}.", nameof(method)),
        };
        double norm = Math.Sqrt(raw.Sum(v => (double)v * v));
        return words.Select((w, i) => new WordScore(w.Word, w.Start, w.End, raw[i], norm == 0 ? 0 : raw[i] / norm)).ToArray();
    }

    /// <summary>The scores a text model gives to one output field, as a function of word-position ids.</summary>
    internal sealed class WordModel(ITextModel model, FieldValues input, string textField, string outputField,
        IReadOnlyList<(string Word, int Start, int End)> words) : IExplainableModel
    {
        public string Name => model.GetType().Name;
        public IReadOnlyList<string> OutputNames { get; } = model.Spec.Output[outputField].Vocab ?? [outputField];
        public bool SupportsGradients => false;
        public HookSet? Hooks => null;

        public Tensor Predict(ModelInput batch)
        {
            var inputs = new FieldValues[batch.Batch];
            for (int b = 0; b < batch.Batch; b++)
            {
                var kept = new List<string>(batch.SeqLength);
                for (int j = 0; j < batch.SeqLength; j++)
                {
                    int id = batch.InputIds[b * batch.SeqLength + j];
                    if (id > 0 && (batch.AttentionMask is null || batch.AttentionMask[b * batch.SeqLength + j] == 1)) kept.Add(words[id - 1].Word);
                }
                inputs[b] = new FieldValues(input) { [textField] = string.Join(' ', kept) };
            }
            var outputs = model.Predict(inputs);
            if (outputs is null || outputs.Count != inputs.Length)
                throw new InvalidOperationException($"{Name}.Predict returned {outputs?.Count ?? 0} outputs for {inputs.Length} inputs; it must return one per input, in order.");
            int c = OutputNames.Count;
            var flat = new float[inputs.Length * c];
            for (int b = 0; b < inputs.Length; b++)
            {
                var values = OutputValues.Numbers(outputs[b], outputField, c, Name);
                for (int k = 0; k < c; k++) flat[b * c + k] = (float)values[k];
            }
            return Tensor.FromArray(flat, inputs.Length, c);
        }
    }

    [GeneratedRegex(@"\S+")]
    private static partial Regex WordPattern();
}

/// <summary>Reads typed values out of a model's output fields, with messages that name the model, the field and what its type needs.</summary>
public static class OutputValues
{
    /// <summary>The numbers of field <paramref name="field"/>: a probability vector of <paramref name="count"/> entries, or one
    /// number (count 1). Accepts double[], float[], any IReadOnlyList of double/float, or a single number.</summary>
    /// <exception cref="InvalidOperationException">the field is missing, of another type, the wrong length or not finite.</exception>
    public static double[] Numbers(FieldValues output, string field, int count, string model)
    {
        if (output is null || !output.TryGetValue(field, out var value) || value is null)
            throw new InvalidOperationException($"model '{model}' returned no '{field}'; its spec declares it as an output.");
        double[] values = value switch
        {
            double d => [d],
            float f => [f],
            int i => [i],
            IReadOnlyList<double> l => l.ToArray(),
            IReadOnlyList<float> l => l.Select(v => (double)v).ToArray(),
            _ => throw new InvalidOperationException($"model '{model}' returned {value.GetType().Name} for '{field}'; return double[] (or float[]) probabilities, or a number for a regression score."),
        };
        if (values.Length != count)
            throw new InvalidOperationException($"model '{model}' returned {values.Length} values for '{field}'; its spec declares {count}.");
        if (values.Any(v => !double.IsFinite(v)))
            throw new InvalidOperationException($"model '{model}' returned a non-finite value for '{field}'.");
        return values;
    }
}
