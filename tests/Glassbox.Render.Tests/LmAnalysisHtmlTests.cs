// The language-model page without a browser: each view appears exactly when the analysis has its
// data, the numbers the script reads (data-* attributes) and the static tables equal the analysis'
// own numbers, Ecco's rank colour maps give the ColorBrewer colours at known points, hostile token
// text stays text everywhere, and bad options are clear errors. (LmAnalysisBrowserTests runs the
// page in Chromium and checks the interaction.)
using System.Globalization;
using System.Text.RegularExpressions;
using Glassbox.Explain.LanguageModels;

namespace Glassbox.Render.Tests;

public class LmAnalysisHtmlTests
{
    private static string ModelDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "models", "gpt2-shakespeare-tiny");
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
            throw new DirectoryNotFoundException("../shared/models/gpt2-shakespeare-tiny was not found above the test binaries.");
        }
    }

    private static readonly Lazy<LanguageModelAnalyzer> s_analyzer = new(() => LanguageModelAnalyzer.FromPretrained(ModelDir));

    private static readonly Lazy<LmAnalysis> s_full = new(() => s_analyzer.Value.Generate("ROMEO:", new LmGenerateOptions
    {
        MaxNewTokens = 3,
        Attributions = [LmAttributionMethod.IntegratedGradients, LmAttributionMethod.Saliency],
        IgSteps = 8,
    }));

    private static readonly Lazy<LmAnalysis> s_bare = new(() => s_analyzer.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 2, CaptureActivations = false }));

    private static LmViewOptions Decoding => new() { TokenText = id => s_analyzer.Value.Tokenizer!.Decode([id]) };

    private static string Section(string html, string id)
    {
        int at = html.IndexOf($"<section id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no section {id}");
        return html[at..html.IndexOf("</section>", at, StringComparison.Ordinal)];
    }

    private static float[] Floats(string s) => [.. s.Split(' ').Select(x => float.Parse(x, CultureInfo.InvariantCulture))];

    [Fact]
    public void EveryViewAppearsWhenTheAnalysisHasItsData()
    {
        var a = s_full.Value;
        string html = LmAnalysisHtml.Render(a, "tiny", Decoding with { Watch = ["Ġthe", a.Tokens[a.FirstGeneratedIndex]], NmfComponents = 3 });
        foreach (var id in new[] { "lm-attributions", "lm-bars", "lm-layer-predictions", "lm-rankings", "lm-rankings-watch", "lm-nmf" })
            Assert.Contains($"<section id=\"{id}\"", html);
        // Two methods: a selector with both, in the analysis' order.
        Assert.Matches("<select id=\"lm-method\"><option value=\"ig\">Integrated gradients \\(ig\\)</option><option value=\"saliency\">", html);
        // NMF: "All factors" then one option per factor.
        Assert.Contains("<option value=\"all\">All factors</option><option value=\"0\">Factor 1</option><option value=\"1\">Factor 2</option><option value=\"2\">Factor 3</option></select>", html);
        Assert.Equal(3, Regex.Matches(Section(html, "lm-nmf"), "class=\"lm-factor\"").Count);
    }

    [Fact]
    public void ViewsWithoutDataAreLeftOut()
    {
        var a = s_bare.Value;
        string html = LmAnalysisHtml.Render(a, "tiny");
        Assert.Contains("<section id=\"lm-attributions\"", html); // the generated text is always there
        Assert.Contains("No attribution method was computed", html);
        Assert.DoesNotContain("<section id=\"lm-bars\"", html);
        Assert.DoesNotContain("id=\"lm-method\"", html);
        Assert.DoesNotContain("<section id=\"lm-rankings-watch\"", html);
        Assert.DoesNotContain("<section id=\"lm-nmf\"", html); // no activations captured
        Assert.Contains("<section id=\"lm-rankings\"", html);
        Assert.Contains("<section id=\"lm-layer-predictions\"", html);

        var one = s_analyzer.Value.Generate("ROMEO:", new LmGenerateOptions { MaxNewTokens = 2, Attributions = [LmAttributionMethod.Saliency] });
        string single = LmAnalysisHtml.Render(one, "tiny", new LmViewOptions { NmfComponents = 0 });
        Assert.DoesNotContain("id=\"lm-method\"", single); // one method: no selector, the method is named on the text
        Assert.Contains("data-method=\"saliency\" data-method-name=\"Saliency (saliency)\"", single);
        Assert.DoesNotContain("<section id=\"lm-nmf\"", single); // NmfComponents = 0
    }

    [Fact]
    public void AttributionDataEqualsTheAnalysis()
    {
        var a = s_full.Value;
        string html = Section(LmAnalysisHtml.Render(a, "tiny", Decoding), "lm-attributions");
        foreach (var (method, rows) in a.Attributions)
            for (int g = 0; g < rows.Count; g++)
            {
                int pos = a.FirstGeneratedIndex + g;
                var token = Regex.Match(html, $"<mark class=\"tok lm-tok output\" data-pos=\"{pos}\"[^>]*>");
                Assert.True(token.Success, $"no output token at {pos}");
                var norm = Floats(Regex.Match(token.Value, $"data-attr-{method.EccoName()}=\"([^\"]*)\"").Groups[1].Value);
                var raw = Floats(Regex.Match(token.Value, $"data-raw-{method.EccoName()}=\"([^\"]*)\"").Groups[1].Value);
                Assert.Equal(rows[g].Normalized, norm);       // G9 round-trips a float exactly
                Assert.Equal(rows[g].PositionNorms, raw);
                Assert.Equal(pos, norm.Length);               // one value per earlier token
                Assert.Equal(1f, norm.Sum(), 1e-4f);
            }
        // Input tokens carry no attribution data, and every token shows its decoded text.
        for (int i = 0; i < a.TokenIds.Length; i++)
            Assert.Contains($"data-pos=\"{i}\"", html);
        Assert.DoesNotMatch("class=\"tok lm-tok input\"[^>]*data-attr-", html);
    }

    [Fact]
    public void RankingsAndLayerPredictionsEqualTheAnalysis()
    {
        var a = s_full.Value;
        string html = LmAnalysisHtml.Render(a, "tiny", Decoding with { TopK = 4, Position = a.FirstGeneratedIndex + 1 });
        var ranks = a.Rankings();
        var cells = Regex.Matches(Section(html, "lm-rankings"), "<td [^>]*data-rank=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(ranks.SelectMany(r => r), cells);
        Assert.Equal(a.LayerCount, Regex.Matches(Section(html, "lm-rankings"), "<tr><th>Layer \\d+</th>").Count);

        string lens = Section(html, "lm-layer-predictions");
        int n = a.TokenIds.Length - a.FirstGeneratedIndex;
        Assert.Equal(n, Regex.Matches(lens, "<div class=\"lm-lp\" data-pos=").Count);
        Assert.Equal(n - 1, Regex.Matches(lens, "<div class=\"lm-lp\" data-pos=\"\\d+\" hidden>").Count); // only the chosen position shows
        Assert.Contains($"<div class=\"lm-lp\" data-pos=\"{a.FirstGeneratedIndex + 1}\">", lens);
        Assert.Contains($"<option value=\"{a.FirstGeneratedIndex + 1}\" selected>", lens);
        for (int p = a.FirstGeneratedIndex; p < a.TokenIds.Length; p++)
        {
            int start = lens.IndexOf($"<div class=\"lm-lp\" data-pos=\"{p}\"", StringComparison.Ordinal);
            int end = lens.IndexOf("</table>", start, StringComparison.Ordinal);
            var ids = Regex.Matches(lens[start..end], "data-id=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.Equal(a.LayerPredictions(p, 4).SelectMany(l => l.TopIds), ids);
        }
        // The generated token is outlined wherever a layer has it in its top 4.
        Assert.Contains("lm-logit lm-chosen", lens);
    }

    [Fact]
    public void RankingsWatchShowsEveryWatchedTokenWithItsRanks()
    {
        var a = s_full.Value;
        string[] watch = ["Ġthe", a.Tokens[a.FirstGeneratedIndex]];
        string html = Section(LmAnalysisHtml.Render(a, "tiny", Decoding with { Watch = watch }), "lm-rankings-watch");
        var want = a.RankingsWatch(watch, a.FirstGeneratedIndex);
        Assert.Contains("<text class=\"lm-watch-label\"", html);
        Assert.Contains("> the</text>", html); // Ġ shown as a space
        Assert.Equal(2, Regex.Matches(html, "<polyline").Count);
        for (int s = 0; s < watch.Length; s++)
        {
            int at = html.IndexOf($"data-series=\"{s}\"", StringComparison.Ordinal);
            var points = Regex.Matches(html[at..html.IndexOf("</g>", at, StringComparison.Ordinal)], "data-layer=\"(\\d+)\" data-rank=\"(\\d+)\"")
                .Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(want.Select(r => r[s]), points);
        }
        var table = Regex.Matches(html[html.IndexOf("id=\"lm-watch-table\"", StringComparison.Ordinal)..], "data-rank=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(want.SelectMany(r => r), table);
    }

    [Fact]
    public void NmfTokensCarryEccosFactorValues()
    {
        var a = s_full.Value;
        var f = a.Nmf(3);
        string html = Section(LmAnalysisHtml.Render(a, "tiny", Decoding with { Factors = f }), "lm-nmf");
        var tokens = Regex.Matches(html, "data-pos=\"(\\d+)\" data-f=\"([^\"]*)\"").ToArray();
        Assert.Equal(a.TokenIds.Length, tokens.Length); // every token, the last generated one included
        foreach (var m in tokens)
        {
            int i = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            // Ecco's explore(): inputs their own position, generated tokens the position before.
            int source = i < a.FirstGeneratedIndex ? i : i - 1;
            Assert.Equal(f.Components.Select(c => c[source]), Floats(m.Groups[2].Value));
        }
        Assert.Contains(f.ReconstructionError.ToString("G6", CultureInfo.InvariantCulture), html);
    }

    [Fact]
    public void Seq2SeqShowsEncoderAndDecoderTokens()
    {
        // T5: TokenIds are the encoder tokens, the decoder start token, then the generated ones; the
        // attributions run over all earlier tokens of both, and NMF positions over encoder then decoder.
        string t5 = Path.Combine(Path.GetDirectoryName(ModelDir)!, "t5-tiny-random");
        var analyzer = LanguageModelAnalyzer.FromPretrained(t5);
        var a = analyzer.Generate("translate English to German: hello", new LmGenerateOptions { MaxNewTokens = 3, Attributions = [LmAttributionMethod.Saliency] });
        Assert.True(a.IsSeq2Seq);
        string html = LmAnalysisHtml.Render(a, "t5", new LmViewOptions { NmfComponents = 2, TokenText = id => analyzer.Tokenizer!.Decode([id]) });
        string text = Section(html, "lm-attributions");
        Assert.Equal(a.FirstGeneratedIndex, Regex.Matches(text, "class=\"tok lm-tok input\"").Count); // encoder tokens + decoder start
        var rows = a.Attributions[LmAttributionMethod.Saliency];
        for (int g = 0; g < rows.Count; g++)
        {
            var token = Regex.Match(text, $"data-pos=\"{a.FirstGeneratedIndex + g}\"[^>]*data-attr-saliency=\"([^\"]*)\"");
            Assert.Equal(rows[g].Normalized, Floats(token.Groups[1].Value));
            Assert.Equal(a.FirstGeneratedIndex + g, rows[g].Normalized.Length);
        }
        // The first rankings column was fed the decoder start token.
        string start = analyzer.Tokenizer!.Decode([a.TokenIds[a.FirstGeneratedIndex - 1]]);
        Assert.Contains($"<th class=\"lm-axis\">input token</th><th class=\"lm-axis-tok\">{HtmlPage.Encode(start)}</th>", Section(html, "lm-rankings"));
        Assert.Equal(a.TokenIds.Length, Regex.Matches(Section(html, "lm-nmf"), " data-f=\"").Count);
    }

    [Fact]
    public void HostileTokenTextStaysText()
    {
        const string Hostile = "</span></mark><script>alert(1)</script><img src=x onerror=\"alert(2)\">&amp;";
        var a = s_analyzer.Value.Generate("<script>alert('x')</script> ROMEO:", new LmGenerateOptions { MaxNewTokens = 2, Attributions = [LmAttributionMethod.Saliency] });
        foreach (var options in new[] { Decoding with { Watch = ["Ġthe"] }, new LmViewOptions { Watch = ["Ġthe"], TokenText = _ => Hostile } })
        {
            string html = LmAnalysisHtml.Render(a, Hostile, options);
            Assert.Single(Regex.Matches(html, "<script>")); // the page's own script only
            Assert.DoesNotContain("<script>alert", html);
            Assert.DoesNotContain("<img src=x", html);
            Assert.DoesNotContain("</mark><script", html);
            Assert.DoesNotMatch("<[a-z]+ [^>]*onerror=", html);
        }
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", LmAnalysisHtml.Render(a, "m", new LmViewOptions { TokenText = _ => Hostile }));
    }

    [Fact]
    public void PageIsSelfContained()
    {
        string html = LmAnalysisHtml.Render(s_full.Value, "tiny", Decoding with { Watch = ["Ġthe"] });
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain(" src=", html);
        Assert.Contains("default-src 'none'", html);
        Assert.Contains(".lm-view", html);       // the views' CSS went into the page's style element
        Assert.Contains("function shade(", html); // and their script into its script element
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        var a = s_bare.Value;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LmAnalysisHtml.Render(a, "m", new LmViewOptions { Position = 0 }));
        Assert.Contains($"positions {a.FirstGeneratedIndex}..{a.TokenIds.Length - 1}", e.Message);
        Assert.Contains("TopK", Assert.Throws<ArgumentOutOfRangeException>(() => LmAnalysisHtml.Render(a, "m", new LmViewOptions { TopK = 0 })).Message);
        Assert.ThrowsAny<ArgumentException>(() => LmAnalysisHtml.Render(a, "m", new LmViewOptions { Watch = ["xyzzy plugh"] }));
        var nmf = s_full.Value;
        Assert.Contains("neurons", Assert.Throws<ArgumentOutOfRangeException>(() => LmAnalysisHtml.Render(nmf, "m", new LmViewOptions { NmfComponents = 1_000_000 })).Message);
        Assert.Throws<InvalidOperationException>(() => LmAnalysisHtml.Splice("<html></html>", "", "", ""));
    }

    [Fact]
    public void RankColoursFollowEccosMaps()
    {
        // Rank 1 is the map's "under" colour, ranks past 5000 are white (matplotlib set_under / set_over).
        Assert.Equal("#9a017b", LmColors.Rank(1, watch: false).Css);
        Assert.Equal("#1a7bb5", LmColors.Rank(1, watch: true).Css);
        Assert.Equal("#ffffff", LmColors.Rank(5001, watch: false).Css);
        // Rank 2 is RdPu at 0.6 (0.8 of the way from #f768a1 to #dd3497); rank 5000 RdPu at 0.1.
        Assert.Equal(Rgb.Lerp(new Rgb(0xf7, 0x68, 0xa1), new Rgb(0xdd, 0x34, 0x97), 0.8), LmColors.Rank(2, watch: false));
        Assert.Equal(Rgb.Lerp(new Rgb(0xff, 0xf7, 0xf3), new Rgb(0xfd, 0xe0, 0xdd), 0.8), LmColors.Rank(5000, watch: false));
        Assert.Equal(Rgb.Lerp(new Rgb(0x7b, 0xcc, 0xc4), new Rgb(0x4e, 0xb3, 0xd3), 0.8), LmColors.Rank(2, watch: true));
        // Better ranks are darker.
        static double Lum(Rgb c) => 0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B;
        for (int r = 2; r < 5000; r = r * 3 / 2 + 1) Assert.True(Lum(LmColors.Rank(r, false)) <= Lum(LmColors.Rank(r * 3 / 2 + 1, false)));
        Assert.Equal("#fff", LmColors.TextOn(LmColors.Rank(1, false)));
        Assert.Equal("#111", LmColors.TextOn(LmColors.Rank(4000, false)));
        Assert.Equal("#1f77b4", LmColors.Factor(0));
        Assert.Equal(12, Enumerable.Range(0, 12).Select(LmColors.Factor).Distinct().Count());
    }

    [Fact]
    public void PercentLabelsAreEccos()
    {
        Assert.Equal("12.36%", LmAnalysisHtml.PercentHtml(0.1236));
        Assert.Equal("&lt;0.01%", LmAnalysisHtml.PercentHtml(0.00005));
        Assert.Equal("99.99%", LmAnalysisHtml.PercentHtml(0.999999));
    }
}
