// One JSON line per explained example, for `glassbox explain-dataset` and `glassbox demo`. The
// explainer is built once (model, tokenizer, provenance hash) and reused for every row. A line
// depends only on the example and the settings (no times, no shard numbers), which is what makes
// shard outputs concatenate to the unsharded output byte for byte and resumed runs identical to
// uninterrupted ones. Fields (camelCase, compact):
//   id, text, pair (pairwise: second text; question-answering: the context), label (the data's, as a
//   string, when there is a label column), prediction {label, index, probability} (+ labels for
//   multi-label, tags for token classification, answer/start/end for question answering), correct
//   (when the label can be compared with the prediction), probabilities {class: p}, attributions
//   [{target, targetIndex, tokens, scores, rawScores, special, words, wordScores, attributionSum,
//   convergenceDelta}] (one entry per explained output: the predicted class, every label,
//   every tagged token, or start and end), warnings, provenance.
using System.Text.Encodings.Web;
using System.Text.Json;
using Glassbox.Explain.Explainers;
using Glassbox.Models;
using Glassbox.Models.Data;

namespace Glassbox.Cli;

/// <summary>Explains dataset rows one at a time and formats each as one JSON line.</summary>
internal sealed class DatasetExplainer
{
    /// <summary>The tasks explain-dataset runs (the text tasks of `glassbox explain`).</summary>
    public static readonly string[] Tasks =
        ["sequence-classification", "pairwise", "multilabel", "zero-shot", "question-answering", "token-classification"];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    private readonly string _task;
    private readonly TextExplainer _explainer;
    private readonly ExplainerOptions _options;
    private readonly string[] _zeroShotLabels;
    private readonly string _template;

    public DatasetExplainer(string task, string folder, TransformerModel model, ExplainerOptions options, IReadOnlyList<string>? zeroShotLabels,
        string? hypothesisTemplate)
    {
        _task = task;
        _options = options;
        _zeroShotLabels = [.. zeroShotLabels ?? []];
        _template = hypothesisTemplate ?? ZeroShotClassificationExplainer.DefaultHypothesisTemplate;
        var tokenizer = CliModels.LoadTokenizer(folder);
        try
        {
            _explainer = task switch
            {
                "sequence-classification" => new SequenceClassificationExplainer(model, tokenizer, folder, options),
                "pairwise" => new PairwiseSequenceClassificationExplainer(model, tokenizer, folder, options),
                "multilabel" => new MultiLabelClassificationExplainer(model, tokenizer, folder, options),
                "zero-shot" => new ZeroShotClassificationExplainer(model, tokenizer, folder, options),
                "question-answering" => new QuestionAnsweringExplainer(model, tokenizer, folder, options),
                "token-classification" => new TokenClassificationExplainer(model, tokenizer, folder, options),
                _ => throw new BadInputException($"explain-dataset does not run the task '{task}'; tasks: {string.Join(", ", Tasks)}."),
            };
        }
        catch (ArgumentException e)
        {
            throw new BadInputException($"{folder} cannot be explained as {task}: {e.Message}");
        }
    }

    /// <summary>The model's class names (id2label order).</summary>
    public IReadOnlyList<string> Labels => _explainer.Labels;

    /// <summary>Whether the task's lines carry one predicted label that a data label can be compared with.</summary>
    public bool HasSingleLabel => _task is "sequence-classification" or "pairwise" or "zero-shot";

    /// <summary>Explains one row and returns its JSON line (without the newline) and the provenance object's JSON.</summary>
    public (string Line, string Provenance) Explain(DataRow row)
    {
        Explanation e = _task switch
        {
            "sequence-classification" => ((SequenceClassificationExplainer)_explainer).Explain(row.Text, options: _options),
            "pairwise" => ((PairwiseSequenceClassificationExplainer)_explainer).Explain(row.Text, row.Pair!, options: _options),
            "multilabel" => ((MultiLabelClassificationExplainer)_explainer).Explain(row.Text, _options),
            "zero-shot" => ((ZeroShotClassificationExplainer)_explainer).Explain(row.Text, _zeroShotLabels, _template, options: _options),
            "question-answering" => ((QuestionAnsweringExplainer)_explainer).Explain(row.Text, row.Pair!, _options),
            "token-classification" => ((TokenClassificationExplainer)_explainer).Explain(row.Text, options: _options),
            _ => throw new InvalidOperationException(_task),
        };
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", row.Id);
            w.WriteString("text", row.Text);
            if (row.Pair is not null) w.WriteString("pair", row.Pair);
            if (row.Label is not null) w.WriteString("label", row.Label);
            WriteBody(w, e, row.Label);
            w.WriteStartArray("warnings"); foreach (var s in e.Warnings) w.WriteStringValue(s); w.WriteEndArray();
            w.WriteEndObject();
        }
        string line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        // The provenance goes last so that resume can compare it with the settings of a new run.
        string provenance = ProvenanceJson(e.Provenance);
        return (line[..^1] + ",\"provenance\":" + provenance + "}", provenance);
    }

    private void WriteBody(Utf8JsonWriter w, Explanation e, string? gold)
    {
        switch (e)
        {
            case SequenceClassificationExplanation s:
                Prediction(w, s.PredictedClassName, s.PredictedClassIndex, s.PredictedProbability);
                Correct(w, gold, s.PredictedClassName, s.PredictedClassIndex);
                Probabilities(w, s.Labels, s.Probabilities);
                w.WriteStartArray("attributions"); Attribution(w, s.Attribution); w.WriteEndArray();
                break;
            case MultiLabelClassificationExplanation m:
            {
                var top = m.Labels.OrderByDescending(l => l.Probability).First();
                var predicted = m.Labels.Where(l => l.Probability > 0.5).Select(l => l.Label).ToArray();
                w.WriteStartObject("prediction");
                w.WriteString("label", top.Label); w.WriteNumber("index", top.Index); w.WriteNumber("probability", top.Probability);
                w.WriteStartArray("labels"); foreach (var p in predicted) w.WriteStringValue(p); w.WriteEndArray();
                w.WriteEndObject();
                if (gold is not null && SplitLabels(gold) is { } goldSet && goldSet.All(Labels.Contains))
                    w.WriteBoolean("correct", goldSet.SetEquals(predicted));
                Probabilities(w, m.Labels.Select(l => l.Label).ToList(), m.Labels.Select(l => l.Probability).ToList());
                w.WriteStartArray("attributions"); foreach (var l in m.Labels) Attribution(w, l.Attribution); w.WriteEndArray();
                break;
            }
            case ZeroShotClassificationExplanation z:
            {
                var best = z.Labels.First(l => l.Label == z.PredictedLabel);
                Prediction(w, best.Label, best.Index, best.Probability);
                if (gold is not null && _zeroShotLabels.Contains(gold.Trim(), StringComparer.OrdinalIgnoreCase))
                    w.WriteBoolean("correct", string.Equals(gold.Trim(), best.Label, StringComparison.OrdinalIgnoreCase));
                Probabilities(w, z.Labels.Select(l => l.Label).ToList(), z.Labels.Select(l => l.Probability).ToList());
                w.WriteStartArray("attributions"); foreach (var l in z.Labels) Attribution(w, l.Attribution); w.WriteEndArray();
                break;
            }
            case QuestionAnsweringExplanation q:
                w.WriteStartObject("prediction");
                w.WriteString("label", q.AnswerText.Length > 0 ? q.AnswerText : q.PredictedAnswer);
                w.WriteString("answer", q.AnswerText); w.WriteString("answerTokens", q.PredictedAnswer);
                w.WriteNumber("start", q.AnswerStartIndex); w.WriteNumber("end", q.AnswerEndIndex);
                w.WriteEndObject();
                if (gold is not null) w.WriteBoolean("correct", Normalize(gold) == Normalize(q.AnswerText));
                w.WriteStartArray("attributions"); Attribution(w, q.Start); Attribution(w, q.End); w.WriteEndArray();
                break;
            case TokenClassificationExplanation t:
                w.WriteStartObject("prediction");
                w.WriteStartArray("tags");
                foreach (var p in t.Predictions)
                {
                    w.WriteStartObject();
                    w.WriteNumber("tokenIndex", p.TokenIndex); w.WriteString("token", p.Token);
                    w.WriteNumber("start", p.Start); w.WriteNumber("end", p.End);
                    w.WriteString("label", p.Label); w.WriteNumber("index", p.LabelIndex); w.WriteNumber("probability", p.Probability);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartArray("attributions"); foreach (var k in t.Tokens) Attribution(w, k.Attribution, $"{k.TokenIndex}:{k.Token}:{k.Label}"); w.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"explain-dataset cannot write {e.GetType().Name}.");
        }
    }

    private static void Prediction(Utf8JsonWriter w, string label, int index, double probability)
    {
        w.WriteStartObject("prediction");
        w.WriteString("label", label); w.WriteNumber("index", index); w.WriteNumber("probability", probability);
        w.WriteEndObject();
    }

    /// <summary>"correct" when the data label names a class (by name, any case) or is its index; omitted otherwise.</summary>
    private void Correct(Utf8JsonWriter w, string? gold, string predictedName, int predictedIndex)
    {
        if (LabelIndexOf(gold) is int g) w.WriteBoolean("correct", g == predictedIndex);
        else if (gold is not null && string.Equals(gold.Trim(), predictedName, StringComparison.OrdinalIgnoreCase)) w.WriteBoolean("correct", true);
    }

    /// <summary>The class index a data label denotes: a class name (any case) or an integer index; null when it denotes none.</summary>
    public int? LabelIndexOf(string? gold)
    {
        if (gold is null) return null;
        string g = gold.Trim();
        for (int i = 0; i < Labels.Count; i++) if (string.Equals(Labels[i], g, StringComparison.OrdinalIgnoreCase)) return i;
        if (int.TryParse(g, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int k) && k >= 0 && k < Labels.Count)
            return k;
        return null;
    }

    private static HashSet<string> SplitLabels(string gold) =>
        new(gold.Split([',', ';', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);

    private static string Normalize(string s) => string.Join(' ', s.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static void Probabilities(Utf8JsonWriter w, IReadOnlyList<string> labels, IReadOnlyList<double> probabilities)
    {
        w.WriteStartObject("probabilities");
        for (int i = 0; i < probabilities.Count; i++) w.WriteNumber(i < labels.Count ? labels[i] : $"LABEL_{i}", probabilities[i]);
        w.WriteEndObject();
    }

    private static void Attribution(Utf8JsonWriter w, TextAttribution a, string? target = null)
    {
        w.WriteStartObject();
        w.WriteString("target", target ?? a.Target);
        w.WriteNumber("targetIndex", a.TargetIndex);
        w.WriteStartArray("tokens"); foreach (var t in a.Tokens) w.WriteStringValue(t.Token); w.WriteEndArray();
        w.WriteStartArray("scores"); foreach (var t in a.Tokens) w.WriteNumberValue(t.Score); w.WriteEndArray();
        w.WriteStartArray("rawScores"); foreach (var t in a.Tokens) w.WriteNumberValue(t.Raw); w.WriteEndArray();
        w.WriteStartArray("special"); foreach (var t in a.Tokens) w.WriteBooleanValue(t.IsSpecial); w.WriteEndArray();
        w.WriteStartArray("words"); foreach (var x in a.Words) w.WriteStringValue(x.Word); w.WriteEndArray();
        w.WriteStartArray("wordScores"); foreach (var x in a.Words) w.WriteNumberValue(x.Score); w.WriteEndArray();
        w.WriteNumber("attributionSum", a.Tokens.Sum(t => t.Raw));
        if (a.ConvergenceDelta is { } d) w.WriteNumber("convergenceDelta", d); else w.WriteNull("convergenceDelta");
        w.WriteEndObject();
    }

    private static string ProvenanceJson(Provenance p)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("explainer", p.Explainer);
            w.WriteString("method", p.Method);
            w.WriteStartObject("parameters");
            foreach (var (k, v) in p.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteString("modelName", p.ModelName);
            if (p.ModelPath is null) w.WriteNull("modelPath"); else w.WriteString("modelPath", p.ModelPath);
            w.WriteString("modelHash", p.ModelHash);
            w.WriteString("glassboxVersion", p.GlassboxVersion);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
