// Ecco's views of one generation on one self-contained page (no network: inline CSS, SVG and JS):
//   - the generated text with Ecco's primary-attributions explorable: hover over or click a generated
//     token and every earlier token is shaded by its share of that token's attribution (a method
//     selector when several methods were computed);
//   - the attribution detail for the selected token: a bar per earlier token, normalised and raw;
//   - the logit lens (Ecco's layer_predictions): per layer, the top-k next tokens and probabilities,
//     for each generated position (position selector, linked to the selected token);
//   - the rankings heatmap (Ecco's rankings): layers × generated tokens, input token above and output
//     token below each column, the rank in each cell, coloured on Ecco's log scale;
//   - rankings watch (Ecco's rankings_watch): the rank of each watched token after each layer as
//     lines, and Ecco's table of the same numbers;
//   - NMF of the MLP neurons (Ecco's explore()): tokens coloured by one factor's strength, or, in the
//     "all factors" view, each in the colour of its strongest factor; a sparkline per factor.
// A view appears when the analysis has its data. Numbers travel to the script in data-* attributes
// and token text only as encoded element text, so hostile token text stays text.
using System.Globalization;
using System.Text;
using Glassbox.Explain.LanguageModels;

namespace Glassbox.Render;

public sealed record LmViewOptions
{
    /// <summary>Top predictions per layer in the logit-lens tables (Ecco's topk, default 10).</summary>
    public int TopK { get; init; } = 10;

    /// <summary>Use Ecco's formula (no final norm on intermediate layers) for the lens and rankings.</summary>
    public bool EccoCompatible { get; init; }

    /// <summary>NMF components of the neuron-factor view, shown when the analysis captured activations (0 = no NMF view).</summary>
    public int NmfComponents { get; init; } = 10;

    /// <summary>A factorisation already computed (Ecco's run_nmf); used instead of running NMF with NmfComponents.</summary>
    public NeuronFactors? Factors { get; init; }

    /// <summary>The generated position (index in TokenIds, Ecco's numbering) shown first in the logit lens and
    /// used by rankings watch; null = the first generated token.</summary>
    public int? Position { get; init; }

    /// <summary>Tokens for the rankings-watch view (vocabulary entries such as "Ġthe", or text that is one
    /// token); null or empty = no rankings-watch view.</summary>
    public IReadOnlyList<string>? Watch { get; init; }

    /// <summary>At most this many generated positions get a logit-lens table (the chosen Position always does).</summary>
    public int MaxLensPositions { get; init; } = 64;

    /// <summary>The text shown for a token id (Ecco shows tokenizer.decode(id)); null = the vocabulary entry
    /// with the byte-level and SentencePiece space markers (Ġ, ▁) shown as spaces.</summary>
    public Func<int, string>? TokenText { get; init; }
}

public static class LmAnalysisHtml
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The page for an analysis; modelName is shown in the facts. Throws ArgumentException for a
    /// Position outside the generated tokens or a watch token not in the vocabulary.</summary>
    public static string Render(LmAnalysis a, string modelName, LmViewOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        var o = options ?? new LmViewOptions();
        if (o.TopK < 1) throw new ArgumentOutOfRangeException(nameof(options), $"LmViewOptions.TopK is {o.TopK}; give at least 1.");
        int generated = a.TokenIds.Length - a.FirstGeneratedIndex;
        int position = o.Position ?? a.FirstGeneratedIndex;
        if (generated > 0 && (position < a.FirstGeneratedIndex || position >= a.TokenIds.Length))
            throw new ArgumentOutOfRangeException(nameof(options), $"Position {position} is outside the generated tokens; positions {a.FirstGeneratedIndex}..{a.TokenIds.Length - 1} hold them.");
        var text = a.TokenIds.Select((id, i) => Display(o, id, a.Tokens[i])).ToArray();

        var page = new HtmlPage("Glassbox language-model analysis");
        page.Prediction(string.Concat(text[a.FirstGeneratedIndex..]), null, "Generated");
        page.Facts("Generation", [
            ("model", modelName),
            ("prompt", string.Concat(text[..a.InputTokenCount])),
            ("input tokens", a.InputTokenCount.ToString(Inv)),
            ("generated tokens", generated.ToString(Inv)),
            ("finish reason", a.FinishReason.ToString()),
            ("attribution methods", a.Attributions.Count == 0 ? "none computed" : string.Join(", ", a.Attributions.Keys.Select(MethodName))),
            ("logit lens", o.EccoCompatible ? "Ecco-compatible (no final norm on intermediate layers)" : "final norm and unembedding on every layer"),
        ]);

        var views = new StringBuilder();
        Attributions(views, a, text);
        if (generated > 0)
        {
            LayerPredictions(views, a, text, o, position);
            Rankings(views, a, text, o);
            if (o.Watch is { Count: > 0 } watch) RankingsWatch(views, a, text, o, watch, position);
        }
        var factors = o.Factors ?? (o.NmfComponents > 0 && a.Activations.Count > 0 ? a.Nmf(o.NmfComponents) : null);
        if (factors is not null) Nmf(views, a, text, factors);
        return Splice(page.ToHtml(), LmPageAssets.Css, views.ToString(), LmPageAssets.Script);
    }

    /// <summary>Adds the views' CSS, markup and script to a page HtmlPage wrote (its one style and one script element).</summary>
    internal static string Splice(string html, string css, string body, string script)
    {
        int style = html.IndexOf("</style>", StringComparison.Ordinal);
        int scriptAt = html.LastIndexOf("<script>", StringComparison.Ordinal);
        if (style < 0 || scriptAt < style) throw new InvalidOperationException("HtmlPage no longer writes one <style> and a closing <script>; LmAnalysisHtml cannot add its views.");
        return new StringBuilder(html.Length + css.Length + body.Length + script.Length)
            .Append(html, 0, style).Append(css).Append(html, style, scriptAt - style).Append(body)
            .Append("<script>").Append(script).Append(html, scriptAt + "<script>".Length, html.Length - scriptAt - "<script>".Length).ToString();
    }

    internal static string Display(LmViewOptions o, int id, string vocab)
    {
        if (o.TokenText is { } decode) return decode(id);
        return vocab.Replace('Ġ', ' ').Replace('▁', ' ').Replace('Ċ', '\n').Replace('ĉ', '\t');
    }

    /// <summary>Token text with line breaks and tabs made visible (the token boxes keep spaces).</summary>
    private static string Visible(string s) => s.Replace("\r", "␍").Replace("\n", "↵").Replace("\t", "⇥");

    private static string MethodName(LmAttributionMethod m) => m switch
    {
        LmAttributionMethod.IntegratedGradients => "Integrated gradients (ig)",
        LmAttributionMethod.Saliency => "Saliency (saliency)",
        _ => "Input × gradient (grad_x_input)",
    };

    private static string Num(float v) => float.IsFinite(v) ? v.ToString("G9", Inv) : "0";
    private static string Nums(IEnumerable<float> vs) => string.Join(' ', vs.Select(Num));
    private static string I(int v) => v.ToString(Inv);

    private static void Section(StringBuilder sb, string id, string heading, string help)
    {
        sb.Append("<section id=\"").Append(id).Append("\" class=\"lm-view\"><h2>").Append(HtmlPage.Encode(heading)).Append("</h2><p class=\"lm-help\">")
            .Append(HtmlPage.Encode(help)).Append("</p>");
    }

    /// <summary>A token box: display text (visible line breaks), vocabulary entry and position in the title.</summary>
    private static void Token(StringBuilder sb, string cls, string text, string vocab, int pos, string extraAttributes = "")
    {
        sb.Append("<mark class=\"tok lm-tok ").Append(cls).Append("\" data-pos=\"").Append(I(pos)).Append('"').Append(extraAttributes)
            .Append(" title=\"").Append(HtmlPage.Encode($"{vocab} (position {pos})")).Append("\"><span class=\"lm-t\">")
            .Append(HtmlPage.Encode(Visible(text))).Append("</span><sub class=\"score\"></sub></mark>");
        sb.Append(text.EndsWith('\n') ? "<br>" : " ");
    }

    private static void Attributions(StringBuilder sb, LmAnalysis a, string[] text)
    {
        bool any = a.Attributions.Count > 0;
        Section(sb, "lm-attributions", "Generated text and input attributions",
            any ? "Hover over or click a generated token (underlined) to shade every earlier token by its share of that token's attribution " +
                  "(Ecco's primary attributions: the L2 norm of each token's attribution over the embedding dimension, divided by the sum; " +
                  "the darkest token has the largest share). Click keeps the selection; tokens after it are dimmed."
                : "Generated tokens are underlined. No attribution method was computed (give --method ig, saliency or input-x-gradient).");
        var methods = a.Attributions.Keys.ToArray();
        if (methods.Length > 1)
        {
            sb.Append("<div class=\"lm-controls\"><label>attribution method <select id=\"lm-method\">");
            foreach (var m in methods)
                sb.Append("<option value=\"").Append(m.EccoName()).Append("\">").Append(HtmlPage.Encode(MethodName(m))).Append("</option>");
            sb.Append("</select></label></div>");
        }
        if (any)
            sb.Append("<div class=\"legend\"><span>Share of the attribution:</span> <span class=\"swatch\" style=\"background:").Append(ColorScale.TokenCss(0))
                .Append("\"></span> none <span class=\"swatch\" style=\"background:").Append(ColorScale.TokenCss(0.5)).Append("\"></span> half the largest <span class=\"swatch\" style=\"background:")
                .Append(ColorScale.TokenCss(1)).Append("\"></span> the largest <label><input type=\"checkbox\" class=\"show-scores\"> show shares</label></div>");
        sb.Append("<div id=\"lm-text\" class=\"tokens lm-text\" data-first=\"").Append(I(a.FirstGeneratedIndex)).Append('"');
        if (methods.Length == 1) sb.Append(" data-method=\"").Append(methods[0].EccoName()).Append("\" data-method-name=\"").Append(HtmlPage.Encode(MethodName(methods[0]))).Append('"');
        sb.Append('>');
        for (int i = 0; i < text.Length; i++)
        {
            if (i < a.FirstGeneratedIndex) { Token(sb, "input", text[i], a.Tokens[i], i); continue; }
            int g = i - a.FirstGeneratedIndex;
            var attrs = new StringBuilder();
            if (g < a.Steps.Count) attrs.Append(" data-prob=\"").Append(Num(a.Steps[g].Probability)).Append('"');
            foreach (var (m, rows) in a.Attributions)
            {
                if (g >= rows.Count) continue;
                var r = rows[g];
                attrs.Append(" data-attr-").Append(m.EccoName()).Append("=\"").Append(Nums(r.Normalized)).Append('"')
                    .Append(" data-raw-").Append(m.EccoName()).Append("=\"").Append(Nums(r.PositionNorms)).Append('"');
                if (r.ConvergenceDelta is { } d) attrs.Append(" data-delta-").Append(m.EccoName()).Append("=\"").Append(Num((float)d)).Append('"');
            }
            Token(sb, "output", text[i], a.Tokens[i], i, attrs.Append(" tabindex=\"0\"").ToString());
        }
        sb.Append("</div>");
        if (any)
        {
            sb.Append("<p id=\"lm-attr-caption\" class=\"lm-caption\"></p></section>\n");
            Section(sb, "lm-bars", "Attribution detail",
                "For the generated token selected above: a bar per earlier token. Share = Ecco's normalised attribution (sums to 100%); " +
                "raw = the L2 norm of the token's attribution over the embedding dimension, before dividing by the sum.");
            sb.Append("<p id=\"lm-bars-caption\" class=\"lm-caption\"></p><table class=\"lm-bars\"><thead><tr><th>position</th><th>token</th><th>share</th><th class=\"num\">share</th><th class=\"num\">raw (L2 norm)</th></tr></thead><tbody id=\"lm-bars-body\"></tbody></table>");
        }
        sb.Append("</section>\n");
    }

    private static void LayerPredictions(StringBuilder sb, LmAnalysis a, string[] text, LmViewOptions o, int position)
    {
        int k = o.TopK;
        var positions = Enumerable.Range(a.FirstGeneratedIndex, Math.Min(o.MaxLensPositions, a.TokenIds.Length - a.FirstGeneratedIndex)).ToList();
        if (!positions.Contains(position)) { positions.Add(position); positions.Sort(); }
        Section(sb, "lm-layer-predictions", "Layer predictions (logit lens)",
            "What each layer would predict at a generated position: the hidden state the layer leaves at the position before it, " +
            (o.EccoCompatible ? "through the unembedding with no final norm on intermediate layers (Ecco's formula)" : "through the final norm and the unembedding") +
            $", top {k} tokens with their probabilities. The token the model generated is outlined. Clicking a generated token above selects its position here.");
        sb.Append("<div class=\"lm-controls\"><label>position <select id=\"lm-lp-position\">");
        foreach (int p in positions)
            sb.Append("<option value=\"").Append(I(p)).Append('"').Append(p == position ? " selected" : "").Append('>').Append(I(p)).Append(": ")
                .Append(HtmlPage.Encode(Visible(text[p]))).Append("</option>");
        sb.Append("</select></label></div>");
        foreach (int p in positions)
        {
            var preds = a.LayerPredictions(p, k, o.EccoCompatible);
            int chosen = a.TokenIds[p];
            sb.Append("<div class=\"lm-lp\" data-pos=\"").Append(I(p)).Append('"').Append(p == position ? "" : " hidden").Append("><p class=\"lm-caption\">Predictions for position ")
                .Append(I(p)).Append(" after <span class=\"lm-quote\">").Append(HtmlPage.Encode(Visible(text[p - 1]))).Append("</span> (generated: <span class=\"lm-quote\">")
                .Append(HtmlPage.Encode(Visible(text[p]))).Append("</span>)</p><table class=\"lm-lp-table\"><thead><tr><th>layer</th>");
            for (int r = 1; r <= k; r++) sb.Append("<th>#").Append(I(r)).Append("</th>");
            sb.Append("</tr></thead><tbody>");
            foreach (var lp in preds)
            {
                sb.Append("<tr><th>Layer ").Append(I(lp.Layer)).Append("</th>");
                for (int r = 0; r < lp.TopIds.Length; r++)
                {
                    float prob = lp.TopProbabilities[r];
                    string shown = Display(o, lp.TopIds[r], lp.TopTokens[r]);
                    sb.Append("<td class=\"lm-logit").Append(lp.TopIds[r] == chosen ? " lm-chosen" : "").Append("\" data-id=\"").Append(I(lp.TopIds[r]))
                        .Append("\" data-prob=\"").Append(Num(prob)).Append("\" title=\"").Append(HtmlPage.Encode($"{lp.TopTokens[r]} (id {lp.TopIds[r]}), probability {prob.ToString("G6", Inv)}"))
                        .Append("\"><span class=\"lm-logit-bar\" style=\"height:").Append((100 * Math.Clamp(prob, 0f, 1f)).ToString("0.#", Inv)).Append("%\"></span><span class=\"lm-logit-tok\">")
                        .Append(HtmlPage.Encode(Visible(shown))).Append("</span><span class=\"lm-logit-prob\">").Append(PercentHtml(prob)).Append("</span></td>");
                }
                sb.Append("</tr>");
            }
            sb.Append("</tbody></table></div>");
        }
        sb.Append("</section>\n");
    }

    /// <summary>Ecco's probability label: two decimals, "&lt;0.01%" and "99.99%" at the ends.</summary>
    internal static string PercentHtml(double p)
    {
        double pc = p * 100;
        if (pc > 99.99) return "99.99%";
        if (pc < 0.01) return "&lt;0.01%";
        return pc.ToString("0.00", Inv) + "%";
    }

    private static void RankLegend(StringBuilder sb, bool watch) =>
        sb.Append("<div class=\"legend lm-rank-legend\"><span>Rank:</span> <span class=\"swatch\" style=\"background:").Append(LmColors.Rank(1, watch).Css)
            .Append("\"></span> 1 <span class=\"lm-colorbar\" style=\"background:").Append(LmColors.RankGradientCss(watch))
            .Append("\"></span> <span class=\"lm-colorbar-labels\">2 … 10 … 100 … 1,000 … 5,000</span> <span class=\"swatch\" style=\"background:#ffffff\"></span> above 5,000 (log scale)</div>");

    private static void RankCell(StringBuilder sb, int rank, bool watch)
    {
        var c = LmColors.Rank(rank, watch);
        sb.Append("<td style=\"background:").Append(c.Css).Append(";color:").Append(LmColors.TextOn(c)).Append("\" data-rank=\"").Append(I(rank)).Append("\">")
            .Append(rank.ToString("#,0", Inv)).Append("</td>");
    }

    private static void Rankings(StringBuilder sb, LmAnalysis a, string[] text, LmViewOptions o)
    {
        var ranks = a.Rankings(o.EccoCompatible);
        int first = a.FirstGeneratedIndex, n = a.TokenIds.Length - first;
        Section(sb, "lm-rankings", "Rankings of the generated tokens",
            "Each column is a generated token: above it the token that was the input at that step, below it the token the model output. " +
            "Each row is a layer; a cell holds the rank the output token had in that layer's prediction (1 = top), coloured on Ecco's log scale.");
        RankLegend(sb, watch: false);
        sb.Append("<table class=\"lm-heat\" id=\"lm-rankings-table\"><thead><tr><th class=\"lm-axis\">input token</th>");
        for (int g = 0; g < n; g++) sb.Append("<th class=\"lm-axis-tok\">").Append(HtmlPage.Encode(Visible(text[first + g - 1]))).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        for (int l = 0; l < ranks.Length; l++)
        {
            sb.Append("<tr><th>Layer ").Append(I(l)).Append("</th>");
            foreach (int r in ranks[l]) RankCell(sb, r, watch: false);
            sb.Append("</tr>");
        }
        sb.Append("</tbody><tfoot><tr><th class=\"lm-axis\">output token</th>");
        for (int g = 0; g < n; g++) sb.Append("<th class=\"lm-axis-tok lm-out\">").Append(HtmlPage.Encode(Visible(text[first + g]))).Append("</th>");
        sb.Append("</tr></tfoot></table></section>\n");
    }

    private static void RankingsWatch(StringBuilder sb, LmAnalysis a, string[] text, LmViewOptions o, IReadOnlyList<string> watch, int position)
    {
        var ranks = a.RankingsWatch(watch, position, o.EccoCompatible);
        var colors = watch.Select((_, s) => LmColors.Factor(s)).ToArray();
        var labels = watch.Select(w => Visible(w.Replace('Ġ', ' ').Replace('▁', ' '))).ToArray();
        Section(sb, "lm-rankings-watch", "Rankings watch",
            $"The rank each watched token had after each layer as the model chose the token at position {position} " +
            $"(it generated \"{Visible(text[position])}\"). Lower is better; a line climbing to 1 is the model settling on that token.");
        sb.Append("<p class=\"lm-caption lm-context\">").Append(HtmlPage.Encode(Visible(string.Concat(text[..position])))).Append(" ____</p>");
        sb.Append(LmSvg.RankLines(ranks, labels, colors));
        RankLegend(sb, watch: true);
        sb.Append("<table class=\"lm-heat\" id=\"lm-watch-table\"><thead><tr><th>layer</th>");
        foreach (var l in labels) sb.Append("<th class=\"lm-axis-tok lm-watch-token\">").Append(HtmlPage.Encode(l)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        for (int l = 0; l < ranks.Length; l++)
        {
            sb.Append("<tr><th>Layer ").Append(I(l)).Append("</th>");
            foreach (int r in ranks[l]) RankCell(sb, r, watch: true);
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table></section>\n");
    }

    private static void Nmf(StringBuilder sb, LmAnalysis a, string[] text, NeuronFactors f)
    {
        int k = f.Components.Length;
        // Ecco's explore(): input tokens show the activation at their own position (the response to the
        // token); generated tokens the activation at the position that produced them (the cause).
        bool sequence = f.Tokens.Length == a.TokenIds.Length - 1;
        int n = sequence ? a.TokenIds.Length : f.Tokens.Length;
        float Value(int c, int i) => !sequence ? f.Components[c][i] : f.Components[c][i < a.FirstGeneratedIndex ? i : i - 1];
        string[] shown = sequence ? text : [.. f.Tokens.Select((t, i) => t.Replace('Ġ', ' ').Replace('▁', ' '))];
        string[] vocab = sequence ? a.Tokens : f.Tokens;
        var colors = Enumerable.Range(0, k).Select(LmColors.Factor).ToArray();

        Section(sb, "lm-nmf", $"Neuron activation factors (NMF, {k} components)",
            "Non-negative matrix factorisation of the MLP neuron activations (Ecco's run_nmf): each factor is a group of neurons that fire together. " +
            "Pick a factor to colour every token by that factor's strength, or \"all factors\" to colour each token by its strongest factor. " +
            "Input tokens show the activation at their own position, generated tokens the activation at the position that produced them.");
        sb.Append("<dl class=\"facts\"><dt>layers</dt><dd>").Append(string.Join(", ", f.Layers)).Append("</dd><dt>reconstruction error</dt><dd>")
            .Append(f.ReconstructionError.ToString("G6", Inv)).Append("</dd><dt>iterations</dt><dd>").Append(I(f.Iterations)).Append(f.Converged ? " (converged)" : " (not converged)").Append("</dd></dl>");
        sb.Append("<div class=\"lm-controls\"><label>factor <select id=\"lm-nmf-factor\"><option value=\"all\">All factors</option>");
        for (int c = 0; c < k; c++) sb.Append("<option value=\"").Append(I(c)).Append("\">Factor ").Append(I(c + 1)).Append("</option>");
        sb.Append("</select></label></div>");
        sb.Append("<div id=\"lm-nmf-text\" class=\"tokens lm-text\" data-colors=\"").Append(string.Join(' ', colors)).Append("\">");
        for (int i = 0; i < n; i++)
            Token(sb, i < a.FirstGeneratedIndex || !sequence ? "input" : "output", shown[i], vocab[i], i,
                " data-f=\"" + Nums(Enumerable.Range(0, k).Select(c => Value(c, i))) + "\"");
        sb.Append("</div><div class=\"lm-factors\">");
        for (int c = 0; c < k; c++)
        {
            var values = Enumerable.Range(0, n).Select(i => Value(c, i)).ToArray();
            sb.Append("<div class=\"lm-factor\" data-factor=\"").Append(I(c)).Append("\" tabindex=\"0\"><span class=\"swatch\" style=\"background:").Append(colors[c])
                .Append("\"></span> Factor ").Append(I(c + 1)).Append(' ').Append(LmSvg.Sparkline(values, colors[c])).Append("</div>");
        }
        sb.Append("</div></section>\n");
    }
}
