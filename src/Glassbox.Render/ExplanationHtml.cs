// One self-contained HTML page per explanation, in the spirit of transformers-interpret's
// visualize(): the prediction and its probability up front, tokens coloured by their signed
// normalised score with a legend, per-label tables where a task explains several outputs
// (multi-label, zero-shot, QA start/end, NER tokens), warnings, and the provenance at the foot.
// With words = true the word-level aggregation is shown instead of the tokens.
using Glassbox.Explain.Explainers;

namespace Glassbox.Render;

public sealed record HtmlViewOptions
{
    /// <summary>Show words (token scores aggregated) instead of tokens.</summary>
    public bool Words { get; init; }
    /// <summary>Image explanations: the attribution view and its options.</summary>
    public ImageView ImageView { get; init; } = ImageView.Overlay;
    public ImageViewOptions ImageOptions { get; init; } = new() { SideBySide = true };
}

public static class ExplanationHtml
{
    public static string Render(Explanation explanation, HtmlViewOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var o = options ?? new HtmlViewOptions();
        var page = explanation switch
        {
            SequenceClassificationExplanation s => Sequence(s, o),
            MultiLabelClassificationExplanation m => MultiLabel(m, o),
            ZeroShotClassificationExplanation z => ZeroShot(z, o),
            QuestionAnsweringExplanation q => QuestionAnswering(q, o),
            TokenClassificationExplanation t => TokenClassification(t, o),
            ImageClassificationExplanation i => Image(i, o),
            _ => throw new NotSupportedException($"No HTML view for {explanation.GetType().Name}."),
        };
        return page.Warnings(explanation.Warnings).ToHtml(ProvenanceFacts(explanation.Provenance));
    }

    public static IReadOnlyList<ScoredToken> Tokens(TextAttribution a, bool words) => words
        ? a.Words.Select(w => new ScoredToken(w.Word, w.Score, w.Raw)).ToList()
        : a.Tokens.Select(t => new ScoredToken(t.Token, t.Score, t.Raw, t.IsSpecial)).ToList();

    private static string Title(string task) => $"Glassbox explanation: {task}";

    private static HtmlPage Sequence(SequenceClassificationExplanation s, HtmlViewOptions o)
    {
        var page = new HtmlPage(Title(s.Task)).Prediction(s.PredictedClassName, s.PredictedProbability)
            .Facts("Input", [("text", s.Text), ("pair", s.Pair), ("attributed class", $"{s.AttributedClassName} (index {s.AttributedClassIndex})"),
                ("attribution sum", HtmlPage.FormatNumber(s.Attribution.Tokens.Sum(t => t.Raw))),
                ("convergence delta", s.ConvergenceDelta is { } d ? HtmlPage.FormatNumber(d, "0.######E+0") : null),
                ("sign flipped", s.FlipSign ? "yes" : null)]);
        page.Table("Word importance", ["Predicted label", "Attribution label", "Attribution score", "Word importance"],
            [[HtmlCell.Text($"{s.PredictedClassName} ({HtmlPage.FormatNumber(s.PredictedProbability, "0.00")})", strong: true),
              HtmlCell.Text(s.AttributedClassName), HtmlCell.Number(s.Attribution.Tokens.Sum(t => t.Raw), "0.00"),
              HtmlCell.Tokens(Tokens(s.Attribution, o.Words))]], legend: true);
        page.Table("Class probabilities", ["Class", "Probability"],
            s.Labels.Select((l, i) => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(l, i == s.PredictedClassIndex), HtmlCell.Number(i < s.Probabilities.Count ? s.Probabilities[i] : double.NaN)]));
        return page;
    }

    private static HtmlPage MultiLabel(MultiLabelClassificationExplanation m, HtmlViewOptions o)
    {
        var top = m.Labels.OrderByDescending(l => l.Probability).First();
        var page = new HtmlPage(Title(m.Task)).Prediction(string.Join(", ", m.Labels.Where(l => l.Probability > 0.5).Select(l => l.Label).DefaultIfEmpty(top.Label)), top.Probability)
            .Facts("Input", [("text", m.Text), ("labels above 0.5", m.Labels.Count(l => l.Probability > 0.5).ToString())]);
        return page.Table("Per-label attributions (sigmoid per label)", ["Label", "Probability", "Attribution score", "Word importance"],
            m.Labels.Select(l => LabelRow(l, o, l.Probability > 0.5)), legend: true);
    }

    private static HtmlPage ZeroShot(ZeroShotClassificationExplanation z, HtmlViewOptions o)
    {
        var predicted = z.Labels.FirstOrDefault(l => l.Label == z.PredictedLabel);
        var page = new HtmlPage(Title(z.Task)).Prediction(z.PredictedLabel, predicted?.Probability)
            .Facts("Input", [("text", z.Text), ("hypothesis template", z.HypothesisTemplate), ("entailment label", z.EntailmentLabel)]);
        return page.Table("Per-label attributions", ["Label", "Probability", "Attribution score", "Word importance"],
            z.Labels.Select(l => LabelRow(l, o, l.Label == z.PredictedLabel)), legend: true);
    }

    private static IReadOnlyList<HtmlCell> LabelRow(LabelAttribution l, HtmlViewOptions o, bool strong) =>
        [HtmlCell.Text(l.Label, strong), HtmlCell.Number(l.Probability), HtmlCell.Number(l.Attribution.Tokens.Sum(t => t.Raw), "0.00"),
         HtmlCell.Tokens(Tokens(l.Attribution, o.Words))];

    private static HtmlPage QuestionAnswering(QuestionAnsweringExplanation q, HtmlViewOptions o)
    {
        string answer = q.AnswerText.Length > 0 ? q.AnswerText : q.PredictedAnswer;
        var page = new HtmlPage(Title(q.Task)).Prediction(answer, null, "Answer")
            .Facts("Input", [("question", q.Question), ("context", q.Context), ("answer tokens", q.PredictedAnswer),
                ("start token", q.AnswerStartIndex.ToString()), ("end token", q.AnswerEndIndex.ToString())]);
        return page.Table("Start and end attributions", ["Position", "Score on input", "Attribution score", "Word importance"],
            [Row("start", q.Start), Row("end", q.End)], legend: true);

        IReadOnlyList<HtmlCell> Row(string name, TextAttribution a) =>
            [HtmlCell.Text(name, strong: true), HtmlCell.Number(a.InputScore ?? double.NaN), HtmlCell.Number(a.Tokens.Sum(t => t.Raw), "0.00"),
             HtmlCell.Tokens(Tokens(a, o.Words))];
    }

    private static HtmlPage TokenClassification(TokenClassificationExplanation t, HtmlViewOptions o)
    {
        string tags = string.Join(" ", t.Predictions.Select(p => $"{p.Token}/{p.Label}"));
        var page = new HtmlPage(Title(t.Task)).Prediction(tags, null, "Tags")
            .Facts("Input", [("text", t.Text)]);
        page.Table("Predicted tags", ["Token", "Tag", "Probability"],
            t.Predictions.Select(p => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(p.Token), HtmlCell.Text(p.Label, strong: true), HtmlCell.Number(p.Probability)]));
        return page.Table("Per-token attributions", ["Token", "Tag", "Probability", "Word importance"],
            t.Tokens.Select(k => (IReadOnlyList<HtmlCell>)[HtmlCell.Text($"{k.Token} (#{k.TokenIndex})", strong: true), HtmlCell.Text(k.Label),
                HtmlCell.Number(k.Probability), HtmlCell.Tokens(Tokens(k.Attribution, o.Words))]), legend: true);
    }

    private static HtmlPage Image(ImageClassificationExplanation e, HtmlViewOptions o)
    {
        var page = new HtmlPage(Title(e.Task)).Prediction(e.PredictedClassName, e.PredictedProbability)
            .Facts("Input", [("attributed class", $"{e.AttributedClassName} (index {e.AttributedClassIndex})"), ("size", $"{e.Width}×{e.Height}"),
                ("convergence delta", e.ConvergenceDelta is { } d ? HtmlPage.FormatNumber(d, "0.######E+0") : null)]);
        int scale = Math.Max(1, 256 / Math.Max(e.Width, e.Height));
        var view = ImageViews.Render(o.ImageView, e.ResizedImage, e.PixelMap, o.ImageOptions with { Scale = Math.Max(o.ImageOptions.Scale, scale) });
        page.Image($"Attributions ({o.ImageView})", view.ToPng(), $"{o.ImageView} of the pixel attributions for {e.AttributedClassName}",
            $"sign {o.ImageOptions.Sign}, outliers clipped at {o.ImageOptions.OutlierPercent}%");
        page.Table("Class probabilities", ["Class", "Probability"],
            e.Labels.Select((l, i) => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(l, i == e.PredictedClassIndex), HtmlCell.Number(i < e.Probabilities.Count ? e.Probabilities[i] : double.NaN)]));
        return page;
    }

    public static IEnumerable<(string, string?)> ProvenanceFacts(Provenance p)
    {
        yield return ("explainer", p.Explainer);
        yield return ("method", p.Method);
        yield return ("model", p.ModelName);
        yield return ("model path", p.ModelPath);
        yield return ("model hash", p.ModelHash);
        yield return ("Glassbox version", p.GlassboxVersion);
        foreach (var (k, v) in p.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal)) yield return (k, v);
    }
}
