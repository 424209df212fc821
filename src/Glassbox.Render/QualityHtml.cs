// The explanation-quality report as one self-contained page: what was evaluated and how, the
// table comparing methods (mean ± std per metric, the best value per column in bold, arrows
// saying which direction is better), the mean deletion and insertion curves of every method, a
// bar chart per metric (with ±std whiskers), the sanity checks as curves of rank correlation
// against the randomised layers, and the first examples with each method's token scores.
// Plots are inline SVG built here from numbers only (method names and labels are encoded), so
// the page keeps HtmlPage's no-network policy; HtmlPage has no hook for raw markup, so each
// figure is placed where a unique marker paragraph was added.
using System.Globalization;
using System.Text;
using Glassbox.Explain.Quality;

namespace Glassbox.Render;

public sealed record QualityViewOptions
{
    /// <summary>Examples shown with their token scores (the first ones of the dataset).</summary>
    public int ExamplesShown { get; init; } = 20;
    /// <summary>The dataset file, shown in the facts.</summary>
    public string? DataPath { get; init; }
}

public static class QualityHtml
{
    // Matplotlib's tab10: distinguishable, colour-blind aware enough for a handful of methods.
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public static string Render(QualityReport report, QualityViewOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var o = options ?? new QualityViewOptions();
        var figures = new List<(string Marker, string Svg)>();
        var page = new HtmlPage("Glassbox explanation quality");
        var best = report.Methods.Where(m => !m.IsBaseline).Select(m => (m, score: m.Metrics[QualityMetrics.Comprehensiveness].Mean))
            .Where(p => double.IsFinite(p.score)).OrderByDescending(p => p.score).FirstOrDefault();
        page.Prediction(best.m?.Method ?? "–", null,
            best.m is null ? "Most comprehensive method" : $"Most comprehensive method (comprehensiveness {HtmlPage.FormatNumber(best.score, "0.000")})");
        var opts = report.Options;
        page.Facts("Evaluation", [
            ("model", report.ModelPath ?? report.ModelName),
            ("model hash", report.ModelHash),
            ("data", o.DataPath),
            ("examples", I(report.Examples.Count)),
            ("examples with a human rationale", report.ExamplesWithRationale > 0 ? I(report.ExamplesWithRationale) : null),
            ("rationale top-k (words)", report.RationaleTopK is { } topK ? I(topK) : null),
            ("target class", opts.Target == QualityTarget.Predicted ? "the predicted class" : "the gold label"),
            ("token removal", opts.Removal switch { RemovalMode.Delete => "deleted from the sequence", RemovalMode.Mask => "replaced by the mask token", _ => "replaced by the pad token" }),
            ("ranking", opts.Faithfulness.RankByAbsoluteValue ? "by |attribution|" : "by signed attribution"),
            ("comprehensiveness / sufficiency bins", string.Join(", ", opts.Faithfulness.Bins.Select(Percent))),
            ("AOPC fractions", string.Join(", ", opts.Faithfulness.AopcFractions.Select(Percent))),
            ("integration steps", I(report.Explainer.Steps)),
            ("LIME / KernelSHAP samples", I(report.Explainer.Samples)),
            ("seed", I(report.Explainer.Seed)),
        ]);

        var metrics = QualityMetrics.Faithfulness.Concat(report.ExamplesWithRationale > 0 ? QualityMetrics.Plausibility : []).ToList();
        var bestIn = metrics.ToDictionary(k => k, k =>
        {
            var v = report.Methods.Select(m => m.Metrics[k].Mean).Where(double.IsFinite).ToArray();
            return v.Length == 0 ? double.NaN : QualityMetrics.HigherIsBetter(k) ? v.Max() : v.Min();
        });
        page.Table("Methods compared (mean ± std over examples)",
            ["method", .. metrics.Select(k => QualityMetrics.DisplayName(k) + (QualityMetrics.HigherIsBetter(k) ? " ↑" : " ↓"))],
            report.Methods.Select(m => (IReadOnlyList<HtmlCell>)[
                HtmlCell.Text(m.IsBaseline ? $"{m.Method} (baseline)" : m.Method, strong: !m.IsBaseline),
                .. metrics.Select(k => HtmlCell.Text(MeanStd(m.Metrics[k]), strong: m.Metrics[k].Mean == bestIn[k] && double.IsFinite(bestIn[k])))]));
        page.Paragraph("Comprehensiveness and sufficiency are ERASER's AOPC versions (mean over the bins); AOPC removes the most relevant " +
            "10%…100% of the tokens; the deletion and insertion AUCs are the areas under the curves below; Kendall τ compares each method's " +
            "ranking with leave-one-out importance. Special tokens are never removed.");

        Figure(page, figures, LineChart("Deletion curves: most important tokens removed first (lower is better)", "fraction of tokens removed", "p(target)",
            report.Methods.Select((m, i) => (m.Method, Colour(i), m.Deletion.Fractions, m.Deletion.Mean, m.IsBaseline)).ToList(), 0, 1, "deletion"));
        Figure(page, figures, LineChart("Insertion curves: most important tokens inserted first (higher is better)", "fraction of tokens present", "p(target)",
            report.Methods.Select((m, i) => (m.Method, Colour(i), m.Insertion.Fractions, m.Insertion.Mean, m.IsBaseline)).ToList(), 0, 1, "insertion"));
        foreach (var k in metrics)
            Figure(page, figures, BarChart($"{QualityMetrics.DisplayName(k)} ({(QualityMetrics.HigherIsBetter(k) ? "higher" : "lower")} is better)",
                report.Methods.Select((m, i) => (m.Method, Colour(i), m.Metrics[k].Mean, m.Metrics[k].Std)).ToList(), k));

        if (report.ParameterRandomisation is { Count: > 0 } pr)
        {
            var layers = pr[0].Steps.Select(s => s.Layer).ToList();
            string order = pr[0].Order == RandomisationOrder.Cascading ? "cascading from the head down" : "one layer at a time";
            page.Table($"Sanity check: model-parameter randomisation ({order}); Spearman ρ with the trained model's attributions",
                ["method", .. layers.Select(l => $"{l} ρ"), .. layers.Select(l => $"{l} |ρ| (absolute values)")],
                pr.Select(r => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(r.Method, strong: true),
                    .. r.Steps.Select(s => HtmlCell.Text(MeanStd(s.Spearman))), .. r.Steps.Select(s => HtmlCell.Text(MeanStd(s.SpearmanAbs)))]));
            var xs = Enumerable.Range(0, layers.Count + 1).Select(i => (double)i).ToArray();
            Figure(page, figures, LineChart("Rank correlation after randomising each layer (a faithful method falls towards 0)",
                "randomised up to: " + string.Join(" → ", ["none", .. layers]), "Spearman ρ",
                pr.Select((r, i) => (r.Method, Colour(i), (IReadOnlyList<double>)xs, (IReadOnlyList<double>)[1.0, .. r.Steps.Select(s => s.Spearman.Mean)], false)).ToList(),
                -1, 1, "randomisation", xTicks: ["trained", .. layers]));
        }
        if (report.LabelRandomisation is { } lr)
        {
            page.Table($"Sanity check: data randomisation (model trained on shuffled labels: {lr.RandomLabelModel})",
                ["method", "Spearman ρ", "Spearman ρ of |a|"],
                lr.Methods.Select(m => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(m.Method, strong: true), HtmlCell.Text(MeanStd(m.Spearman)), HtmlCell.Text(MeanStd(m.SpearmanAbs))]));
        }

        var shown = report.Examples.Take(Math.Max(0, o.ExamplesShown)).ToList();
        if (shown.Count > 0)
        {
            var names = report.Methods.Where(m => !m.IsBaseline).Select(m => m.Method).ToList();
            page.Table($"Examples (first {shown.Count}): tokens shaded by each method's attribution (scaled by its largest |value|)",
                ["example", "target", .. names.Select(n => $"{n} (comprehensiveness)"), .. names],
                shown.Select(e => (IReadOnlyList<HtmlCell>)[
                    HtmlCell.Text(e.Id), HtmlCell.Text(e.TargetName),
                    .. names.Select(n => HtmlCell.Number(e.Methods[n].Metrics[QualityMetrics.Comprehensiveness])),
                    .. names.Select(n => HtmlCell.Tokens(Shade(e.Tokens, e.Methods[n].Attributions)))]), legend: true);
        }
        page.Warnings(report.Warnings);
        string html = page.ToHtml([("generator", "glassbox evaluate-explanations"), ("model", report.ModelName), ("model hash", report.ModelHash)]);
        foreach (var (marker, svg) in figures)
            html = html.Replace($"<p>{marker}</p>", svg, StringComparison.Ordinal);
        return html;
    }

    private static void Figure(HtmlPage page, List<(string, string)> figures, string svg)
    {
        string marker = $"glassbox-figure-{Guid.NewGuid():N}";
        page.Paragraph(marker);
        figures.Add((marker, svg));
    }

    private static IReadOnlyList<ScoredToken> Shade(IReadOnlyList<string> tokens, IReadOnlyList<double> scores)
    {
        double max = scores.Select(Math.Abs).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        return tokens.Select((t, i) => new ScoredToken(t, max == 0 ? 0 : scores[i] / max, scores[i])).ToList();
    }

    private static string Colour(int i) => Palette[i % Palette.Length];
    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Percent(double q) => (q * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    /// <summary>"mean ± std" with three decimals, or "–" when no example had a value.</summary>
    public static string MeanStd(MetricSummary s) =>
        s.Count == 0 ? "–" : $"{HtmlPage.FormatNumber(s.Mean, "0.000")} ± {HtmlPage.FormatNumber(s.Std, "0.000")}";

    private const int LineW = 640, BarW = 400, H = 300, Left = 56, Top = 24, Bottom = 46;

    /// <summary>Curves on shared axes: one path per series (class "curve", data-method), a legend on the right.</summary>
    internal static string LineChart(string title, string xLabel, string yLabel,
        IReadOnlyList<(string Name, string Colour, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed)> series,
        double yMin, double yMax, string id, IReadOnlyList<string>? xTicks = null)
    {
        double xMin = series.SelectMany(s => s.X).DefaultIfEmpty(0).Min(), xMax = series.SelectMany(s => s.X).DefaultIfEmpty(1).Max();
        if (xMax <= xMin) xMax = xMin + 1;
        const int W = LineW, Right = 150;
        double pw = W - Left - Right, ph = H - Top - Bottom;
        double Px(double x) => Left + (x - xMin) / (xMax - xMin) * pw;
        double Py(double y) => Top + (1 - (Math.Clamp(double.IsFinite(y) ? y : yMin, yMin, yMax) - yMin) / (yMax - yMin)) * ph;
        var sb = Open(title, id, W);
        Axes(sb, xLabel, yLabel, pw);
        for (int t = 0; t <= 4; t++)
        {
            double y = yMin + (yMax - yMin) * t / 4;
            sb.Append($"<line x1=\"{N(Left)}\" x2=\"{N(Left + pw)}\" y1=\"{N(Py(y))}\" y2=\"{N(Py(y))}\" stroke=\"#eee\"/>");
            sb.Append($"<text x=\"{N(Left - 6)}\" y=\"{N(Py(y) + 4)}\" text-anchor=\"end\" font-size=\"11\">{F(y)}</text>");
        }
        if (xTicks is not null)
            for (int i = 0; i < xTicks.Count; i++)
                sb.Append($"<text x=\"{N(Px(xMin + i))}\" y=\"{N(Top + ph + 15)}\" text-anchor=\"middle\" font-size=\"10\">{HtmlPage.Encode(xTicks[i])}</text>");
        else
            for (int t = 0; t <= 4; t++)
            {
                double x = xMin + (xMax - xMin) * t / 4;
                sb.Append($"<text x=\"{N(Px(x))}\" y=\"{N(Top + ph + 15)}\" text-anchor=\"middle\" font-size=\"11\">{F(x)}</text>");
            }
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var d = new StringBuilder();
            for (int k = 0; k < s.X.Count; k++) d.Append(k == 0 ? 'M' : 'L').Append(N(Px(s.X[k]))).Append(',').Append(N(Py(s.Y[k])));
            sb.Append($"<path class=\"curve\" data-method=\"{HtmlPage.Encode(s.Name)}\" d=\"{d}\" fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"5,4\"" : "")}><title>{HtmlPage.Encode(s.Name)}</title></path>");
            double ly = Top + 8 + i * 18;
            sb.Append($"<line x1=\"{N(W - Right + 12)}\" x2=\"{N(W - Right + 34)}\" y1=\"{N(ly)}\" y2=\"{N(ly)}\" stroke=\"{s.Colour}\" stroke-width=\"3\"{(s.Dashed ? " stroke-dasharray=\"5,4\"" : "")}/>");
            sb.Append($"<text class=\"legend-label\" x=\"{N(W - Right + 40)}\" y=\"{N(ly + 4)}\" font-size=\"12\">{HtmlPage.Encode(s.Name)}</text>");
        }
        return Close(sb);
    }

    /// <summary>One bar per method (class "bar", data-method) with a ±std whisker; the axis spans zero and the values.</summary>
    internal static string BarChart(string title, IReadOnlyList<(string Name, string Colour, double Value, double Std)> bars, string id)
    {
        var finite = bars.Where(b => double.IsFinite(b.Value)).ToList();
        double lo = Math.Min(0, finite.Select(b => b.Value - (double.IsFinite(b.Std) ? b.Std : 0)).DefaultIfEmpty(0).Min());
        double hi = Math.Max(0, finite.Select(b => b.Value + (double.IsFinite(b.Std) ? b.Std : 0)).DefaultIfEmpty(1).Max());
        if (hi - lo < 1e-12) hi = lo + 1;
        const int W = BarW, Right = 12;
        double pw = W - Left - Right, ph = H - Top - Bottom;
        double Py(double y) => Top + (1 - (y - lo) / (hi - lo)) * ph;
        var sb = Open(title, id, W);
        Axes(sb, "method", "mean ± std", pw);
        for (int t = 0; t <= 4; t++)
        {
            double y = lo + (hi - lo) * t / 4;
            sb.Append($"<line x1=\"{N(Left)}\" x2=\"{N(Left + pw)}\" y1=\"{N(Py(y))}\" y2=\"{N(Py(y))}\" stroke=\"#eee\"/>");
            sb.Append($"<text x=\"{N(Left - 6)}\" y=\"{N(Py(y) + 4)}\" text-anchor=\"end\" font-size=\"11\">{y.ToString("0.###", CultureInfo.InvariantCulture)}</text>");
        }
        sb.Append($"<line x1=\"{N(Left)}\" x2=\"{N(Left + pw)}\" y1=\"{N(Py(0))}\" y2=\"{N(Py(0))}\" stroke=\"#888\"/>");
        double slot = pw / Math.Max(1, bars.Count), bw = slot * 0.6;
        for (int i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            double cx = Left + slot * (i + 0.5);
            if (double.IsFinite(b.Value))
            {
                double y0 = Py(0), y1 = Py(b.Value);
                sb.Append($"<rect class=\"bar\" data-method=\"{HtmlPage.Encode(b.Name)}\" x=\"{N(cx - bw / 2)}\" y=\"{N(Math.Min(y0, y1))}\" width=\"{N(bw)}\" height=\"{N(Math.Max(0.5, Math.Abs(y1 - y0)))}\" fill=\"{b.Colour}\">");
                sb.Append($"<title>{HtmlPage.Encode(b.Name)}: {HtmlPage.FormatNumber(b.Value, "0.0000")} ± {HtmlPage.FormatNumber(b.Std, "0.0000")}</title></rect>");
                if (double.IsFinite(b.Std) && b.Std > 0)
                    sb.Append($"<line x1=\"{N(cx)}\" x2=\"{N(cx)}\" y1=\"{N(Py(b.Value - b.Std))}\" y2=\"{N(Py(b.Value + b.Std))}\" stroke=\"#333\"/>");
            }
            sb.Append($"<text x=\"{N(cx)}\" y=\"{N(Top + ph + 15)}\" text-anchor=\"middle\" font-size=\"11\">{HtmlPage.Encode(b.Name)}</text>");
        }
        return Close(sb);
    }

    private static StringBuilder Open(string title, string id, int W)
    {
        var sb = new StringBuilder();
        // Figures sit side by side while the window has room (the h2 wraps within the figure's width).
        sb.Append($"<section class=\"figure\" style=\"display:inline-block;vertical-align:top;margin-right:18px;max-width:{W}px\"><h2>{HtmlPage.Encode(title)}</h2>");
        sb.Append($"<svg class=\"chart\" id=\"chart-{HtmlPage.Encode(id)}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{HtmlPage.Encode(title)}\" font-family=\"system-ui, sans-serif\">");
        sb.Append($"<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>");
        return sb;
    }

    private static void Axes(StringBuilder sb, string xLabel, string yLabel, double pw)
    {
        double ph = H - Top - Bottom;
        sb.Append($"<line x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{N(Top + ph)}\" stroke=\"#444\"/>");
        sb.Append($"<line x1=\"{Left}\" x2=\"{N(Left + pw)}\" y1=\"{N(Top + ph)}\" y2=\"{N(Top + ph)}\" stroke=\"#444\"/>");
        sb.Append($"<text x=\"{N(Left + pw / 2)}\" y=\"{H - 8}\" text-anchor=\"middle\" font-size=\"12\">{HtmlPage.Encode(xLabel)}</text>");
        sb.Append($"<text x=\"14\" y=\"{N(Top + ph / 2)}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 {N(Top + ph / 2)})\">{HtmlPage.Encode(yLabel)}</text>");
    }

    private static string Close(StringBuilder sb) => sb.Append("</svg></section>\n").ToString();

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
