// Views for the concepts issue: the phrase tree of a hierarchical explanation (nested spans coloured
// by score, each labelled with its score and, on hover, its interaction term) and the TCAV results
// (a table per layer and an SVG strip plot of the concept's run scores against the random runs').
using System.Globalization;
using System.Text;
using Glassbox.Explain.Concepts;
using Glassbox.Explain.Hierarchy;
using Glassbox.Explain.Summaries;

namespace Glassbox.Render;

/// <summary>HTML for hierarchical explanations and TCAV results.</summary>
public static class ConceptViews
{
    private const string TreeCss = """
<style>
.phrase-tree { font-size: 14px; }
.ptree-node { display: inline-flex; flex-direction: column; align-items: stretch; border: 1px solid #bbb; border-radius: 4px; margin: 2px; padding: 2px; vertical-align: top; }
.ptree-node > .ptree-label { font-size: 11px; color: #333; text-align: center; white-space: nowrap; }
.ptree-node > .ptree-children { display: flex; flex-direction: row; align-items: flex-start; }
.ptree-node.leaf > .ptree-text { padding: 2px 4px; white-space: pre; }
</style>
""";

    /// <summary>The page for a hierarchical explanation: prediction, summary sentence, the nested phrase tree and a table of phrases.</summary>
    public static string HierarchicalPage(HierarchicalExplanation e, IEnumerable<(string Key, string? Value)>? provenance = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        var page = new HtmlPage("Glassbox hierarchical explanation")
            .Prediction(e.TargetName, e.InputScore, "Explained class")
            .Paragraph(ExplanationSummary.Describe(e))
            .Html("Phrase tree", PhraseTree(e), "phrase-tree");
        var rows = e.Root.Descendants().OrderByDescending(n => Math.Abs(n.Score))
            .Select(n => (IReadOnlyList<HtmlCell>)[HtmlCell.Text(n.Text), HtmlCell.Number(n.Score), HtmlCell.Number(n.Interaction),
                HtmlCell.Text($"{n.Start}–{n.End}")]);
        page.Table("Phrases by importance", ["Phrase", "Score", "Interaction", "Words"], rows);
        return page.ToHtml(provenance ?? e.Parameters.Select(kv => (kv.Key, (string?)kv.Value)));
    }

    /// <summary>Nested boxes, one per tree node, coloured by score relative to the largest |score|.</summary>
    public static string PhraseTree(HierarchicalExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        double max = e.Root.Descendants().Max(n => Math.Abs(n.Score));
        if (max == 0) max = 1;
        var sb = new StringBuilder(TreeCss).Append("<div class=\"phrase-tree\">");
        Append(sb, e.Root, max);
        return sb.Append("</div>\n").ToString();
    }

    private static void Append(StringBuilder sb, PhraseNode n, double max)
    {
        string score = HtmlPage.FormatNumber(n.Score);
        string title = $"{n.Text}: score {score}, interaction {HtmlPage.FormatNumber(n.Interaction)}";
        sb.Append("<div class=\"ptree-node").Append(n.Children.Count == 0 ? " leaf" : "").Append("\" data-start=\"").Append(n.Start)
            .Append("\" data-end=\"").Append(n.End).Append("\" data-score=\"").Append(score).Append("\" data-interaction=\"")
            .Append(HtmlPage.FormatNumber(n.Interaction)).Append("\" title=\"").Append(HtmlPage.Encode(title)).Append("\" style=\"background-color:")
            .Append(ColorScale.TokenCss(n.Score / max)).Append("\">");
        sb.Append("<span class=\"ptree-label\">").Append(score).Append("</span>");
        if (n.Children.Count == 0)
            sb.Append("<span class=\"ptree-text\">").Append(HtmlPage.Encode(n.Text)).Append("</span>");
        else
        {
            sb.Append("<div class=\"ptree-children\">");
            foreach (var c in n.Children) Append(sb, c, max);
            sb.Append("</div>");
        }
        sb.Append("</div>");
    }

    /// <summary>The page for TCAV results: a sentence per result, a table, and a strip plot of run scores vs random runs.</summary>
    public static string TcavPage(IReadOnlyList<TcavResult> results, IEnumerable<(string Key, string? Value)>? provenance = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var page = new HtmlPage("Glassbox TCAV");
        foreach (var r in results) page.Paragraph(ExplanationSummary.Describe(r));
        var rows = results.Select(r => (IReadOnlyList<HtmlCell>)[
            HtmlCell.Text(r.Concept), HtmlCell.Text(r.ClassName), HtmlCell.Text(r.Layer), HtmlCell.Number(r.Score, "0.000"), HtmlCell.Number(r.ScoreStd, "0.000"),
            HtmlCell.Number(r.RandomScores.Average(), "0.000"), HtmlCell.Number(r.PValue, "0.0000"), HtmlCell.Text(r.Significant ? "yes" : "no", r.Significant),
            HtmlCell.Number(r.CavAccuracy, "0.000")]);
        page.Table("TCAV scores", ["Concept", "Class", "Layer", "TCAV score", "Std", "Random mean", "p-value", "Significant", "CAV accuracy"], rows);
        page.Html("Run scores (concept ● vs random ○)", StripPlot(results), "tcav-runs");
        return page.ToHtml(provenance);
    }

    /// <summary>An SVG with one row per result: each run's score as a filled dot, each random run's as a hollow one, on [0, 1].</summary>
    public static string StripPlot(IReadOnlyList<TcavResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        const int left = 260, width = 400, rowHeight = 34, top = 20;
        int height = top + rowHeight * results.Count + 24;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg class=\"tcav-strip\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 20}\" height=\"{height}\" role=\"img\">");
        for (int t = 0; t <= 10; t += 5)
        {
            double x = left + width * t / 10.0;
            sb.Append(inv, $"<line x1=\"{x}\" y1=\"{top - 6}\" x2=\"{x}\" y2=\"{height - 20}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{height - 6}\" font-size=\"11\" text-anchor=\"middle\">{t / 10.0:0.0}</text>");
        }
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            double y = top + rowHeight * i + rowHeight / 2.0;
            string label = HtmlPage.Encode($"{r.Concept} → {r.ClassName} @ {r.Layer}");
            sb.Append(inv, $"<text class=\"tcav-row-label\" x=\"{left - 8}\" y=\"{y + 4}\" font-size=\"12\" text-anchor=\"end\">{label}</text>");
            foreach (var s in r.RandomScores)
                sb.Append(inv, $"<circle class=\"random\" cx=\"{left + width * s:0.#}\" cy=\"{y + 6}\" r=\"4\" fill=\"none\" stroke=\"#888\"/>");
            foreach (var s in r.RunScores)
                sb.Append(inv, $"<circle class=\"run\" cx=\"{left + width * s:0.#}\" cy=\"{y - 6}\" r=\"4\" fill=\"{(r.Significant ? "#2c7fb8" : "#bbb")}\"/>");
        }
        return sb.Append("</svg>\n").ToString();
    }
}
