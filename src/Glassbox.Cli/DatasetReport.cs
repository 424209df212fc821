// The HTML report of an explain-dataset results file (JSON Lines). One self-contained page (inline
// CSS, no script from outside, a Content-Security-Policy that forbids fetches) with:
//   - what was explained (data, model, task, method) and links given by the caller;
//   - accuracy when the lines carry "correct" (overall, per gold label, confusion matrix);
//   - predicted classes with their counts and mean confidence;
//   - per explained class, the tokens with the largest mean attribution (normalised scores, special
//     tokens left out, tokens seen at least MinOccurrences times) and those with the most negative;
//   - the most and least confident examples, and the misclassified ones, linking to
//   - per-example views (anchors #example-N, N the line number): text, label, prediction and the
//     coloured tokens of every explained output. Past MaxExampleViews examples only the linked ones
//     get a view, so a report of a million lines stays a page a browser opens.
// The file is read twice (statistics, then the views), never held whole in memory.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Glassbox.Render;

namespace Glassbox.Cli;

internal sealed record DatasetReportOptions
{
    public string Title { get; init; } = "Glassbox dataset report";
    public string? Task { get; init; }
    public string? Data { get; init; }
    public string? Model { get; init; }
    public IReadOnlyList<(string Label, string Href)> Links { get; init; } = [];
    /// <summary>Rows in the most / least confident tables.</summary>
    public int ConfidenceRows { get; init; } = 10;
    /// <summary>Tokens per class in the top-token tables.</summary>
    public int TopTokens { get; init; } = 15;
    /// <summary>A token enters the top-token tables only when it occurs at least this often in the class.</summary>
    public int MinOccurrences { get; init; } = 2;
    /// <summary>Every example gets a view up to this many lines; beyond, only the linked ones.</summary>
    public int MaxExampleViews { get; init; } = 2000;
    /// <summary>Most misclassified examples listed.</summary>
    public int MaxMisclassified { get; init; } = 100;
}

internal static class DatasetReport
{
    private sealed record Example(int Line, string Id, string Text, string? Label, string? Predicted, double? Probability, bool? Correct);

    private sealed class TokenStat
    {
        public double Sum;
        public int Count;
        public double Mean => Sum / Count;
    }

    /// <summary>Renders the report of the results file at <paramref name="resultsPath"/>.</summary>
    /// <exception cref="BadInputException">A line is not an explain-dataset line.</exception>
    public static string Render(string resultsPath, DatasetReportOptions o)
    {
        var examples = new List<Example>();
        var tokens = new SortedDictionary<string, Dictionary<string, TokenStat>>(StringComparer.Ordinal);
        var predictedCounts = new SortedDictionary<string, (int Count, double SumProbability)>(StringComparer.Ordinal);
        string? method = null, explainer = null, modelHash = null;

        foreach (var (line, root) in Lines(resultsPath))
        {
            string id = root.GetProperty("id").GetString()!;
            string text = root.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
            if (root.TryGetProperty("pair", out var pair) && pair.ValueKind == JsonValueKind.String) text += " ‖ " + pair.GetString();
            string? label = root.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            label = WithClassName(label, root);
            string? predicted = null; double? probability = null;
            if (root.TryGetProperty("prediction", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                if (p.TryGetProperty("label", out var pl) && pl.ValueKind == JsonValueKind.String) predicted = pl.GetString();
                if (p.TryGetProperty("probability", out var pp) && pp.ValueKind == JsonValueKind.Number) probability = pp.GetDouble();
                else if (p.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array && tags.GetArrayLength() > 0)
                {
                    probability = tags.EnumerateArray().Average(x => x.GetProperty("probability").GetDouble());
                    predicted = string.Join(" ", tags.EnumerateArray().Select(x => x.GetProperty("label").GetString()).Distinct().Order(StringComparer.Ordinal));
                }
            }
            bool? correct = root.TryGetProperty("correct", out var c) && c.ValueKind is JsonValueKind.True or JsonValueKind.False ? c.GetBoolean() : null;
            examples.Add(new Example(line, id, text, label, predicted, probability, correct));
            if (predicted is not null)
            {
                predictedCounts.TryGetValue(predicted, out var pc);
                predictedCounts[predicted] = (pc.Count + 1, pc.SumProbability + (probability ?? 0));
            }
            if (root.TryGetProperty("attributions", out var attributions) && attributions.ValueKind == JsonValueKind.Array)
                foreach (var a in attributions.EnumerateArray())
                {
                    string target = ClassOf(a.GetProperty("target").GetString() ?? "?");
                    if (!tokens.TryGetValue(target, out var stats)) tokens[target] = stats = new Dictionary<string, TokenStat>(StringComparer.Ordinal);
                    var toks = a.GetProperty("tokens"); var scores = a.GetProperty("scores");
                    var special = a.TryGetProperty("special", out var sp) ? sp : default;
                    int i = 0;
                    foreach (var (tok, score) in toks.EnumerateArray().Zip(scores.EnumerateArray()))
                    {
                        bool isSpecial = special.ValueKind == JsonValueKind.Array && special[i].GetBoolean();
                        i++;
                        if (isSpecial) continue;
                        string key = tok.GetString() ?? "";
                        if (!stats.TryGetValue(key, out var st)) stats[key] = st = new TokenStat();
                        st.Sum += score.GetDouble(); st.Count++;
                    }
                }
            if (root.TryGetProperty("provenance", out var prov))
            {
                method ??= prov.TryGetProperty("method", out var m) ? m.GetString() : null;
                explainer ??= prov.TryGetProperty("explainer", out var ex) ? ex.GetString() : null;
                modelHash ??= prov.TryGetProperty("modelHash", out var mh) ? mh.GetString() : null;
            }
        }

        var confident = examples.Where(e => e.Probability is not null).OrderByDescending(e => e.Probability).ThenBy(e => e.Line).Take(o.ConfidenceRows).ToList();
        var unsure = examples.Where(e => e.Probability is not null).OrderBy(e => e.Probability).ThenBy(e => e.Line).Take(o.ConfidenceRows).ToList();
        var judged = examples.Where(e => e.Correct is not null).ToList();
        var wrong = judged.Where(e => e.Correct == false).OrderByDescending(e => e.Probability ?? 0).ThenBy(e => e.Line).Take(o.MaxMisclassified).ToList();
        var byLine = examples.ToDictionary(e => e.Line);
        var viewed = new HashSet<int>(confident.Concat(unsure).Concat(wrong).Select(e => e.Line));
        bool allViews = examples.Count <= o.MaxExampleViews;
        if (allViews) foreach (var e in examples) viewed.Add(e.Line);

        var html = new StringBuilder();
        Head(html, o.Title);
        html.Append("<h1>").Append(Enc(o.Title)).Append("</h1>\n");
        if (o.Links.Count > 0)
        {
            html.Append("<nav class=\"links\">");
            foreach (var (label, href) in o.Links) html.Append("<a href=\"").Append(Enc(href)).Append("\">").Append(Enc(label)).Append("</a> ");
            html.Append("</nav>\n");
        }
        html.Append("<section><h2>What was explained</h2><dl class=\"facts\">");
        Fact(html, "examples", examples.Count.ToString(CultureInfo.InvariantCulture));
        Fact(html, "task", o.Task);
        Fact(html, "data", o.Data);
        Fact(html, "model", o.Model);
        Fact(html, "model hash", modelHash);
        Fact(html, "explainer", explainer);
        Fact(html, "attribution method", method);
        Fact(html, "results file", Path.GetFileName(resultsPath));
        html.Append("</dl></section>\n");

        html.Append("<nav class=\"toc\"><a href=\"#accuracy\">Accuracy</a> · <a href=\"#predictions\">Predictions</a> · <a href=\"#top-tokens\">Top tokens per class</a> · <a href=\"#confident\">Most confident</a> · <a href=\"#unsure\">Least confident</a>");
        if (judged.Count > 0) html.Append(" · <a href=\"#misclassified\">Misclassified</a>");
        html.Append(" · <a href=\"#examples\">Examples</a></nav>\n");

        // Accuracy.
        html.Append("<section id=\"accuracy\"><h2>Accuracy</h2>");
        if (judged.Count == 0)
            html.Append("<p>No accuracy: the data has no label column, or its labels are neither the model's class names nor class indices.</p>");
        else
        {
            int right = judged.Count(e => e.Correct == true);
            html.Append("<p class=\"headline\"><span id=\"accuracy-value\">").Append(Num(right / (double)judged.Count)).Append("</span> (")
                .Append(right).Append(" of ").Append(judged.Count).Append(" labelled examples correct");
            if (judged.Count < examples.Count) html.Append("; ").Append(examples.Count - judged.Count).Append(" examples without a usable label");
            html.Append(")</p>");
            var byGold = judged.GroupBy(e => e.Label ?? "").OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            html.Append("<table><thead><tr><th>Gold label</th><th>Examples</th><th>Correct</th><th>Accuracy</th></tr></thead><tbody>");
            foreach (var g in byGold)
            {
                int k = g.Count(e => e.Correct == true);
                html.Append("<tr><td>").Append(Enc(g.Key)).Append("</td><td class=\"num\">").Append(g.Count()).Append("</td><td class=\"num\">").Append(k)
                    .Append("</td><td class=\"num\">").Append(Num(k / (double)g.Count())).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
            var predictedNames = judged.Select(e => e.Predicted ?? "").Distinct().Order(StringComparer.Ordinal).ToList();
            html.Append("<h3>Confusion matrix (rows: gold label, columns: prediction)</h3><table class=\"confusion\"><thead><tr><th></th>");
            foreach (var p in predictedNames) html.Append("<th>").Append(Enc(p)).Append("</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var g in byGold)
            {
                html.Append("<tr><th>").Append(Enc(g.Key)).Append("</th>");
                foreach (var p in predictedNames) html.Append("<td class=\"num\">").Append(g.Count(e => (e.Predicted ?? "") == p)).Append("</td>");
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</section>\n");

        // Predictions.
        html.Append("<section id=\"predictions\"><h2>Predictions</h2><table><thead><tr><th>Predicted</th><th>Examples</th><th>Mean confidence</th></tr></thead><tbody>");
        foreach (var (label, (count, sum)) in predictedCounts)
            html.Append("<tr><td>").Append(Enc(label)).Append("</td><td class=\"num\">").Append(count).Append("</td><td class=\"num\">").Append(Num(sum / count)).Append("</td></tr>");
        html.Append("</tbody></table></section>\n");

        // Top tokens per class.
        html.Append("<section id=\"top-tokens\"><h2>Tokens with the largest mean attribution per class</h2>");
        html.Append("<p class=\"note\">Mean of the normalised token score over every occurrence in the explanations of that class (the class explained: the predicted one for classifiers); special tokens left out; tokens seen fewer than ")
            .Append(o.MinOccurrences).Append(" times left out.</p>");
        Legend(html);
        foreach (var (target, stats) in tokens)
        {
            var eligible = stats.Where(kv => kv.Value.Count >= o.MinOccurrences).ToList();
            var top = eligible.OrderByDescending(kv => kv.Value.Mean).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(o.TopTokens).ToList();
            var bottom = eligible.Where(kv => kv.Value.Mean < 0).OrderBy(kv => kv.Value.Mean).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(Math.Min(o.TopTokens, 10)).ToList();
            html.Append("<div class=\"class-tokens\" data-class=\"").Append(Enc(target)).Append("\"><h3>").Append(Enc(target)).Append("</h3>");
            if (top.Count == 0) { html.Append("<p class=\"note\">No token occurs often enough.</p></div>"); continue; }
            TokenTable(html, "towards " + target, top);
            if (bottom.Count > 0) TokenTable(html, "against " + target, bottom);
            html.Append("</div>");
        }
        html.Append("</section>\n");

        // Confidence tables and misclassified.
        ExampleTable(html, "confident", "Most confident examples", confident);
        ExampleTable(html, "unsure", "Least confident examples", unsure);
        if (judged.Count > 0)
            ExampleTable(html, "misclassified", $"Misclassified examples ({judged.Count(e => e.Correct == false)}; most confident first{(judged.Count(e => e.Correct == false) > wrong.Count ? $", first {wrong.Count} shown" : "")})", wrong);

        // Per-example views.
        html.Append("<section id=\"examples\"><h2>Examples</h2>");
        if (!allViews)
            html.Append("<p class=\"note\">").Append(examples.Count).Append(" examples: only those linked from the tables above have a view here (at most ")
                .Append(o.MaxExampleViews).Append(" get one each). Every explanation is in the results file.</p>");
        Legend(html);
        foreach (var (line, root) in Lines(resultsPath))
        {
            if (!viewed.Contains(line)) continue;
            var e = byLine[line];
            html.Append("<article class=\"example\" id=\"example-").Append(line).Append("\"><h3>#").Append(Enc(e.Id)).Append("</h3><p class=\"summary\">");
            if (e.Label is not null) html.Append("gold <strong>").Append(Enc(e.Label)).Append("</strong> · ");
            html.Append("predicted <strong>").Append(Enc(e.Predicted ?? "?")).Append("</strong>");
            if (e.Probability is { } pr) html.Append(" (").Append(Num(pr)).Append(')');
            if (e.Correct == false) html.Append(" <span class=\"wrong\">wrong</span>");
            html.Append("</p><p class=\"text\">").Append(Enc(e.Text)).Append("</p>");
            if (root.TryGetProperty("attributions", out var attributions))
                foreach (var a in attributions.EnumerateArray())
                {
                    html.Append("<div class=\"attribution\"><span class=\"target\">").Append(Enc(a.GetProperty("target").GetString())).Append("</span> ");
                    var special = a.TryGetProperty("special", out var sp) ? sp : default;
                    int i = 0;
                    foreach (var (tok, score) in a.GetProperty("tokens").EnumerateArray().Zip(a.GetProperty("scores").EnumerateArray()))
                    {
                        bool isSpecial = special.ValueKind == JsonValueKind.Array && special[i].GetBoolean();
                        i++;
                        Mark(html, tok.GetString() ?? "", score.GetDouble(), isSpecial);
                    }
                    html.Append("</div>");
                }
            html.Append("<a class=\"top\" href=\"#top\">back to top</a></article>\n");
        }
        html.Append("</section>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>A gold label that is a class index ("1") shown with the class name ("1 (POSITIVE)"), the names
    /// being the keys of the line's probabilities in class order.</summary>
    private static string? WithClassName(string? label, JsonElement root)
    {
        if (label is null || !int.TryParse(label.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int k)) return label;
        if (!root.TryGetProperty("probabilities", out var p) || p.ValueKind != JsonValueKind.Object) return label;
        var names = p.EnumerateObject().Select(x => x.Name).ToList();
        return k < names.Count && names[k] != label.Trim() ? $"{label.Trim()} ({names[k]})" : label;
    }

    /// <summary>The class of an attribution target: the label, or for token classification ("3:paris:B-LOC") the tag.</summary>
    private static string ClassOf(string target)
    {
        int last = target.LastIndexOf(':');
        return last >= 0 && target.IndexOf(':') < last ? target[(last + 1)..] : target;
    }

    private static IEnumerable<(int Line, JsonElement Root)> Lines(string path)
    {
        int number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(text);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new BadInputException($"{path} line {number} is not valid JSON ({e.Message}).");
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                throw new BadInputException($"{path} line {number} is not an explain-dataset line (no string \"id\").");
            yield return (number, root);
        }
    }

    private static void ExampleTable(StringBuilder html, string anchor, string heading, IReadOnlyList<Example> rows)
    {
        html.Append("<section id=\"").Append(anchor).Append("\"><h2>").Append(Enc(heading)).Append("</h2>");
        if (rows.Count == 0) { html.Append("<p class=\"note\">None.</p></section>\n"); return; }
        html.Append("<table><thead><tr><th>Example</th><th>Text</th><th>Gold</th><th>Predicted</th><th>Confidence</th></tr></thead><tbody>");
        foreach (var e in rows)
        {
            html.Append("<tr><td><a href=\"#example-").Append(e.Line).Append("\">#").Append(Enc(e.Id)).Append("</a></td><td>").Append(Enc(Abbreviate(e.Text, 160)))
                .Append("</td><td>").Append(Enc(e.Label ?? "")).Append("</td><td").Append(e.Correct == false ? " class=\"wrong\"" : "").Append('>').Append(Enc(e.Predicted ?? ""))
                .Append("</td><td class=\"num\">").Append(e.Probability is { } p ? Num(p) : "").Append("</td></tr>");
        }
        html.Append("</tbody></table></section>\n");
    }

    private static void TokenTable(StringBuilder html, string caption, IReadOnlyList<KeyValuePair<string, TokenStat>> rows)
    {
        html.Append("<table class=\"top-tokens\"><caption>").Append(Enc(caption)).Append("</caption><thead><tr><th>Token</th><th>Mean score</th><th>Occurrences</th></tr></thead><tbody>");
        foreach (var (token, st) in rows)
        {
            html.Append("<tr><td>"); Mark(html, token, st.Mean, false);
            html.Append("</td><td class=\"num\">").Append(Num(st.Mean)).Append("</td><td class=\"num\">").Append(st.Count).Append("</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    private static void Mark(StringBuilder html, string token, double score, bool special)
    {
        html.Append("<mark class=\"tok").Append(special ? " special" : "").Append("\" style=\"background-color:").Append(ColorScale.TokenCss(Math.Clamp(score, -1, 1)))
            .Append("\" title=\"score ").Append(Num(score)).Append("\">").Append(Enc(token)).Append("</mark> ");
    }

    private static void Legend(StringBuilder html) =>
        html.Append("<div class=\"legend\">Legend: <span class=\"swatch\" style=\"background:").Append(ColorScale.TokenCss(-1)).Append("\"></span> against the class ")
            .Append("<span class=\"swatch\" style=\"background:").Append(ColorScale.TokenCss(0)).Append("\"></span> neutral ")
            .Append("<span class=\"swatch\" style=\"background:").Append(ColorScale.TokenCss(1)).Append("\"></span> towards the class</div>");

    private static void Fact(StringBuilder html, string key, string? value)
    {
        if (value is not null) html.Append("<dt>").Append(Enc(key)).Append("</dt><dd>").Append(Enc(value)).Append("</dd>");
    }

    private static string Abbreviate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static string Num(double v) => HtmlPage.FormatNumber(v);

    private static string Enc(string? s) => HtmlPage.Encode(s);

    private static void Head(StringBuilder html, string title)
    {
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"Glassbox\">\n");
        html.Append("<title>").Append(Enc(title)).Append("</title>\n<style>").Append(Css).Append("</style>\n</head>\n<body id=\"top\">\n");
    }

    private const string Css = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 3px; }
h3 { font-size: 14px; margin: 12px 0 6px; }
nav.links a, nav.toc a { margin-right: 8px; }
nav.toc { font-size: 14px; margin: 10px 0; }
.headline { font-size: 18px; } .headline span { font-weight: 700; }
.note { color: #555; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 12px 6px 0; display: inline-table; vertical-align: top; }
caption { text-align: left; font-size: 13px; color: #555; padding: 2px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; font-size: 14px; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrong, span.wrong { color: #b00020; font-weight: 600; }
mark.tok { color: #111; padding: 1px 3px; border-radius: 3px; white-space: pre-wrap; border: 1px solid #ddd; line-height: 2; }
mark.tok.special { font-style: italic; color: #555; }
.legend { font-size: 13px; color: #444; margin: 4px 0 8px; }
.legend .swatch { display: inline-block; width: 14px; height: 14px; vertical-align: middle; border: 1px solid #bbb; margin-left: 8px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; word-break: break-all; }
article.example { border-top: 1px solid #eee; padding: 4px 0 8px; }
article.example:target { background: #fffbe6; }
article.example .summary { margin: 2px 0; font-size: 14px; }
article.example .text { margin: 2px 0 4px; color: #333; }
.attribution .target { display: inline-block; min-width: 90px; font-size: 12px; color: #555; }
a.top { font-size: 12px; }
""";
}
