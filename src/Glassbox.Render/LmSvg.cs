// Inline SVG for the language-model views: the rankings-watch line chart (rank of each watched
// token after each layer, log scale with rank 1 at the top, as "climbing" reads upwards) and the
// sparklines of the NMF factors. Every piece of text is HTML-encoded; numbers use the invariant
// culture.
using System.Globalization;
using System.Text;

namespace Glassbox.Render;

internal static class LmSvg
{
    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Rank per layer for each series ([layer][series]); labels are the series' display texts.</summary>
    public static string RankLines(int[][] ranks, IReadOnlyList<string> labels, IReadOnlyList<string> colors)
    {
        int layers = ranks.Length, series = labels.Count;
        int maxRank = Math.Max(10, ranks.SelectMany(r => r).DefaultIfEmpty(1).Max());
        int decades = (int)Math.Ceiling(Math.Log10(maxRank) - 1e-9);
        double left = 64, top = 16, plotW = Math.Max(240, 56.0 * (layers - 1)), plotH = Math.Max(160, 36.0 * decades), legendW = 180;
        double width = left + plotW + 24 + legendW, height = top + plotH + 44;
        double X(int l) => left + (layers == 1 ? plotW / 2 : plotW * l / (layers - 1));
        double Y(int rank) => top + plotH * Math.Log10(Math.Max(1, rank)) / decades;

        var sb = new StringBuilder();
        sb.Append("<svg class=\"lm-watch-chart\" width=\"").Append(F(width)).Append("\" height=\"").Append(F(height))
            .Append("\" viewBox=\"0 0 ").Append(F(width)).Append(' ').Append(F(height)).Append("\" role=\"img\" aria-label=\"rank of each watched token after each layer\">");
        // Decade grid lines and labels (1, 10, 100, ...).
        for (int d = 0; d <= decades; d++)
        {
            double y = top + plotH * d / decades;
            sb.Append("<line x1=\"").Append(F(left)).Append("\" x2=\"").Append(F(left + plotW)).Append("\" y1=\"").Append(F(y)).Append("\" y2=\"").Append(F(y))
                .Append("\" stroke=\"#e4e4e4\"/><text x=\"").Append(F(left - 6)).Append("\" y=\"").Append(F(y + 4)).Append("\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">")
                .Append(Math.Pow(10, d).ToString("#,0", CultureInfo.InvariantCulture)).Append("</text>");
        }
        for (int l = 0; l < layers; l++)
            sb.Append("<text x=\"").Append(F(X(l))).Append("\" y=\"").Append(F(top + plotH + 16)).Append("\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">")
                .Append(l.ToString(CultureInfo.InvariantCulture)).Append("</text>");
        sb.Append("<text x=\"").Append(F(left + plotW / 2)).Append("\" y=\"").Append(F(top + plotH + 36)).Append("\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">layer</text>");
        sb.Append("<text transform=\"translate(14 ").Append(F(top + plotH / 2)).Append(") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">rank (log scale)</text>");

        for (int s = 0; s < series; s++)
        {
            string label = HtmlPage.Encode(labels[s]);
            sb.Append("<g class=\"lm-watch-series\" data-series=\"").Append(s.ToString(CultureInfo.InvariantCulture)).Append("\"><polyline fill=\"none\" stroke-width=\"2\" stroke=\"").Append(colors[s]).Append("\" points=\"");
            for (int l = 0; l < layers; l++) sb.Append(F(X(l))).Append(',').Append(F(Y(ranks[l][s]))).Append(' ');
            sb.Append("\"/>");
            for (int l = 0; l < layers; l++)
                sb.Append("<circle cx=\"").Append(F(X(l))).Append("\" cy=\"").Append(F(Y(ranks[l][s]))).Append("\" r=\"3.5\" fill=\"").Append(colors[s])
                    .Append("\" data-layer=\"").Append(l.ToString(CultureInfo.InvariantCulture)).Append("\" data-rank=\"").Append(ranks[l][s].ToString(CultureInfo.InvariantCulture))
                    .Append("\"><title>").Append(label).Append(": rank ").Append(ranks[l][s].ToString("#,0", CultureInfo.InvariantCulture))
                    .Append(" after layer ").Append(l.ToString(CultureInfo.InvariantCulture)).Append("</title></circle>");
            double ly = top + 8 + 20 * s, lx = left + plotW + 24;
            sb.Append("<line x1=\"").Append(F(lx)).Append("\" x2=\"").Append(F(lx + 22)).Append("\" y1=\"").Append(F(ly)).Append("\" y2=\"").Append(F(ly))
                .Append("\" stroke-width=\"3\" stroke=\"").Append(colors[s]).Append("\"/><text class=\"lm-watch-label\" x=\"").Append(F(lx + 28)).Append("\" y=\"").Append(F(ly + 4))
                .Append("\" font-size=\"12\" fill=\"#222\" xml:space=\"preserve\">").Append(label).Append("</text></g>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>A small line of values in [0, max] (one point per token).</summary>
    public static string Sparkline(IReadOnlyList<float> values, string color, int width = 160, int height = 26)
    {
        double max = Math.Max(1e-12, values.Count == 0 ? 0 : values.Max());
        var sb = new StringBuilder();
        sb.Append("<svg class=\"lm-spark\" width=\"").Append(width).Append("\" height=\"").Append(height)
            .Append("\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height).Append("\" aria-hidden=\"true\"><polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"")
            .Append(color).Append("\" points=\"");
        for (int i = 0; i < values.Count; i++)
        {
            double x = values.Count == 1 ? width / 2.0 : 1 + (width - 2.0) * i / (values.Count - 1);
            double y = height - 2 - (height - 4) * Math.Max(0, values[i]) / max;
            sb.Append(F(x)).Append(',').Append(F(y)).Append(' ');
        }
        sb.Append("\"/></svg>");
        return sb.ToString();
    }
}
