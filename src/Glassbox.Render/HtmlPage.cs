// A self-contained HTML page: CSS and JS inline, images as data: URIs, and a Content-Security-Policy
// that forbids every network fetch, so a saved explanation opens the same offline, years later.
// Everything that comes from outside (tokens, labels, texts, paths) goes through Encode; nothing
// from the data is placed inside <script> (the script reads data-* attributes), so hostile token
// text cannot close a tag or start a script.
using System.Globalization;
using System.Net;
using System.Text;

namespace Glassbox.Render;

/// <summary>A token to colour: its text, the normalised score that sets the colour ([-1, 1]) and optionally the raw score.</summary>
public readonly record struct ScoredToken(string Text, double Score, double? Raw = null, bool IsSpecial = false);

/// <summary>A table cell: text, a number, or a row of coloured tokens.</summary>
public abstract record HtmlCell
{
    public static HtmlCell Text(string? text, bool strong = false) => new TextCell(text ?? "", strong);
    public static HtmlCell Number(double value, string format = "0.0000") => new TextCell(HtmlPage.FormatNumber(value, format), false, IsNumber: true);
    public static HtmlCell Tokens(IReadOnlyList<ScoredToken> tokens) => new TokensCell(tokens);

    internal sealed record TextCell(string Value, bool Strong, bool IsNumber = false) : HtmlCell;
    internal sealed record TokensCell(IReadOnlyList<ScoredToken> Value) : HtmlCell;
}

public sealed class HtmlPage
{
    private readonly string _title;
    private readonly StringBuilder _body = new();

    public HtmlPage(string title) => _title = title;

    public static string Encode(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string FormatNumber(double v, string format = "0.0000") =>
        double.IsNaN(v) ? "NaN" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The headline: the prediction (id "predicted-label") and its probability (id "predicted-probability").</summary>
    public HtmlPage Prediction(string label, double? probability, string caption = "Prediction")
    {
        _body.Append("<section class=\"prediction\"><span class=\"caption\">").Append(Encode(caption)).Append("</span> ");
        _body.Append("<span id=\"predicted-label\" class=\"label\">").Append(Encode(label)).Append("</span>");
        if (probability is { } p)
            _body.Append(" <span class=\"caption\">probability</span> <span id=\"predicted-probability\" class=\"prob\">")
                .Append(FormatNumber(p)).Append("</span>");
        _body.Append("</section>\n");
        return this;
    }

    /// <summary>A definition list of facts (task, inputs, explained target, ...).</summary>
    public HtmlPage Facts(string heading, IEnumerable<(string Key, string? Value)> facts)
    {
        _body.Append("<section><h2>").Append(Encode(heading)).Append("</h2><dl class=\"facts\">");
        foreach (var (k, v) in facts)
            if (v is not null) _body.Append("<dt>").Append(Encode(k)).Append("</dt><dd>").Append(Encode(v)).Append("</dd>");
        _body.Append("</dl></section>\n");
        return this;
    }

    /// <summary>Tokens coloured by signed score, with a legend.</summary>
    public HtmlPage Tokens(string heading, IReadOnlyList<ScoredToken> tokens)
    {
        _body.Append("<section><h2>").Append(Encode(heading)).Append("</h2>");
        AppendLegend();
        _body.Append("<div class=\"tokens\">");
        AppendTokens(tokens);
        _body.Append("</div></section>\n");
        return this;
    }

    public HtmlPage Table(string heading, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<HtmlCell>> rows, bool legend = false)
    {
        _body.Append("<section><h2>").Append(Encode(heading)).Append("</h2>");
        if (legend) AppendLegend();
        _body.Append("<table><thead><tr>");
        foreach (var c in columns) _body.Append("<th>").Append(Encode(c)).Append("</th>");
        _body.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var cell in row)
            {
                switch (cell)
                {
                    case HtmlCell.TextCell t:
                        _body.Append(t.IsNumber ? "<td class=\"num\">" : "<td>");
                        if (t.Strong) _body.Append("<strong>");
                        _body.Append(Encode(t.Value));
                        if (t.Strong) _body.Append("</strong>");
                        _body.Append("</td>");
                        break;
                    case HtmlCell.TokensCell k:
                        _body.Append("<td class=\"tokens\">");
                        AppendTokens(k.Value);
                        _body.Append("</td>");
                        break;
                }
            }
            _body.Append("</tr>");
        }
        _body.Append("</tbody></table></section>\n");
        return this;
    }

    /// <summary>An embedded PNG image (data: URI).</summary>
    public HtmlPage Image(string heading, byte[] png, string alt, string? caption = null)
    {
        _body.Append("<section><h2>").Append(Encode(heading)).Append("</h2><figure><img class=\"pixelated\" alt=\"").Append(Encode(alt))
            .Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">");
        if (caption is not null) _body.Append("<figcaption>").Append(Encode(caption)).Append("</figcaption>");
        _body.Append("</figure></section>\n");
        return this;
    }

    public HtmlPage Warnings(IReadOnlyList<string> warnings)
    {
        if (warnings.Count == 0) return this;
        _body.Append("<section class=\"warnings\"><h2>Warnings</h2><ul>");
        foreach (var w in warnings) _body.Append("<li>").Append(Encode(w)).Append("</li>");
        _body.Append("</ul></section>\n");
        return this;
    }

    public HtmlPage Paragraph(string text)
    {
        _body.Append("<p>").Append(Encode(text)).Append("</p>\n");
        return this;
    }

    /// <summary>A section with a heading and markup built by a Glassbox view (which must encode any text it takes from data).</summary>
    public HtmlPage Html(string heading, string trustedHtml, string? id = null)
    {
        _body.Append("<section").Append(id is null ? "" : $" id=\"{Encode(id)}\"").Append("><h2>").Append(Encode(heading)).Append("</h2>\n")
            .Append(trustedHtml).Append("</section>\n");
        return this;
    }

    private void AppendLegend() =>
        _body.Append("<div class=\"legend\"><span>Legend:</span> <span class=\"swatch\" style=\"background:")
            .Append(ColorScale.TokenCss(-1)).Append("\"></span> Negative <span class=\"swatch\" style=\"background:")
            .Append(ColorScale.TokenCss(0)).Append("\"></span> Neutral <span class=\"swatch\" style=\"background:")
            .Append(ColorScale.TokenCss(1)).Append("\"></span> Positive")
            .Append(" <label><input type=\"checkbox\" class=\"show-scores\"> show scores</label></div>");

    private void AppendTokens(IReadOnlyList<ScoredToken> tokens)
    {
        foreach (var t in tokens)
        {
            string score = FormatNumber(t.Score);
            string title = t.Raw is { } raw ? $"score {score}, raw {FormatNumber(raw, "0.######E+0")}" : $"score {score}";
            _body.Append("<mark class=\"tok").Append(t.IsSpecial ? " special" : "").Append("\" style=\"background-color:")
                .Append(ColorScale.TokenCss(t.Score)).Append("\" title=\"").Append(Encode(title)).Append("\" data-score=\"")
                .Append(score).Append("\">").Append(Encode(t.Text)).Append("<sub class=\"score\">").Append(score).Append("</sub></mark> ");
        }
    }

    public string ToHtml(IEnumerable<(string Key, string? Value)>? provenance = null)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<meta name=\"generator\" content=\"Glassbox\">\n");
        sb.Append("<title>").Append(Encode(_title)).Append("</title>\n<style>").Append(Css).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Encode(_title)).Append("</h1>\n");
        sb.Append(_body);
        if (provenance is not null)
        {
            sb.Append("<footer><h2>Provenance</h2><dl class=\"facts\">");
            foreach (var (k, v) in provenance)
                if (v is not null) sb.Append("<dt>").Append(Encode(k)).Append("</dt><dd>").Append(Encode(v)).Append("</dd>");
            sb.Append("</dl></footer>\n");
        }
        sb.Append("<script>").Append(Script).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private const string Css = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 16px; margin: 18px 0 8px; }
.prediction { font-size: 18px; padding: 10px 14px; background: #f3f5f8; border-left: 4px solid #3b6fb6; }
.prediction .caption { color: #666; font-size: 14px; }
.prediction .label { font-weight: 700; }
.tokens { line-height: 2.1; }
mark.tok { color: #111; padding: 2px 3px; border-radius: 3px; white-space: pre-wrap; border: 1px solid #ddd; }
mark.tok.special { font-style: italic; color: #555; }
mark.tok sub.score { display: none; font-size: 10px; color: #333; margin-left: 2px; }
body.scores mark.tok sub.score { display: inline; }
.legend { font-size: 13px; color: #444; margin: 4px 0 8px; }
.legend .swatch { display: inline-block; width: 14px; height: 14px; vertical-align: middle; border: 1px solid #bbb; margin-left: 8px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; word-break: break-all; }
img.pixelated { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; }
.warnings { background: #fff7e0; border-left: 4px solid #e0a800; padding: 4px 12px; }
footer { margin-top: 24px; border-top: 1px solid #ddd; }
""";

    private const string Script = """
(function () {
  document.querySelectorAll('input.show-scores').forEach(function (box) {
    box.addEventListener('change', function () {
      document.body.classList.toggle('scores', box.checked);
      document.querySelectorAll('input.show-scores').forEach(function (other) { other.checked = box.checked; });
    });
  });
})();
""";
}
