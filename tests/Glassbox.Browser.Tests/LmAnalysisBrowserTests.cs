// The language-model page in headless Chromium. The DOM dump shows the generated tokens, the logit
// lens, the rankings, the watched tokens and the NMF factor selector; a probe script appended to the
// page drives the views as a user would (mouseover, click, selector changes), reads back the token
// shading (data-shade and computed background colours) after each step and writes what it saw into
// the DOM as JSON, which the test compares with the analysis' own numbers.
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Glassbox.Explain.LanguageModels;
using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class LmAnalysisBrowserTests
{
    private static readonly Lazy<LanguageModelAnalyzer> s_analyzer = new(() => LanguageModelAnalyzer.FromPretrained(Path.Combine(SharedModels.Dir, "gpt2-shakespeare-tiny")));

    private static string Decode(int id) => s_analyzer.Value.Tokenizer!.Decode([id]);

    // DOM serialisation escapes only these in text.
    private static string DomText(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\u00a0", "&nbsp;");

    private static string Visible(string s) => s.Replace("\n", "↵").Replace("\t", "⇥");

    // Drives the page and records what the views show after each step.
    private const string Probe = """
<script>
(function () {
  var out = {};
  var toks = Array.prototype.slice.call(document.querySelectorAll('#lm-text mark.lm-tok'));
  var outs = toks.filter(function (t) { return t.classList.contains('output'); });
  function state() {
    return {
      shown: document.getElementById('lm-text').getAttribute('data-shown'),
      shades: toks.map(function (t) { return t.getAttribute('data-shade'); }),
      colors: toks.map(function (t) { return getComputedStyle(t).backgroundColor; }),
      selected: toks.filter(function (t) { return t.classList.contains('lm-selected'); }).map(function (t) { return t.getAttribute('data-pos'); }),
      future: toks.filter(function (t) { return t.classList.contains('lm-future'); }).length,
      bars: Array.prototype.map.call(document.querySelectorAll('#lm-bars-body tr'), function (r) { return r.cells[3].textContent; }),
      lens: Array.prototype.filter.call(document.querySelectorAll('.lm-lp'), function (d) { return !d.hidden; }).map(function (d) { return d.getAttribute('data-pos'); })
    };
  }
  out.initial = state();
  outs[outs.length - 1].dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
  out.hoverLast = state();
  document.getElementById('lm-text').dispatchEvent(new MouseEvent('mouseleave'));
  out.left = state();
  outs[1].dispatchEvent(new MouseEvent('click', { bubbles: true }));
  out.clicked = state();
  var method = document.getElementById('lm-method');
  method.value = 'saliency';
  method.dispatchEvent(new Event('change'));
  out.saliency = state();
  var factor = document.getElementById('lm-nmf-factor');
  var nmfToks = Array.prototype.slice.call(document.querySelectorAll('#lm-nmf-text mark.lm-tok'));
  function nmfState() {
    return { factors: nmfToks.map(function (t) { return t.getAttribute('data-factor'); }), shades: nmfToks.map(function (t) { return t.getAttribute('data-shade'); }),
             colors: nmfToks.map(function (t) { return getComputedStyle(t).backgroundColor; }) };
  }
  out.nmfAll = nmfState();
  factor.value = '1';
  factor.dispatchEvent(new Event('change'));
  out.nmfOne = nmfState();
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
""";

    private static JsonElement RunProbe(string html, out string dom)
    {
        int end = html.LastIndexOf("</body>", StringComparison.Ordinal);
        string path = PageAssertions.WriteTemp(html[..end] + Probe + html[end..]);
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            dom = HeadlessChromium.DumpDom(path);
            var m = Regex.Match(dom, "<pre id=\"probe\">(.*?)</pre>", RegexOptions.Singleline);
            Assert.True(m.Success, "the probe script did not run (a script error in the page?)");
            return JsonDocument.Parse(WebUtility.HtmlDecode(m.Groups[1].Value)).RootElement.Clone();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static double?[] Shades(JsonElement state) =>
        [.. state.GetProperty("shades").EnumerateArray().Select(s => s.ValueKind == JsonValueKind.Null ? (double?)null : double.Parse(s.GetString()!, CultureInfo.InvariantCulture))];

    private static string[] Strings(JsonElement state, string name) => [.. state.GetProperty(name).EnumerateArray().Select(s => s.GetString() ?? "")];

    /// <summary>The shading the page should show for output position `pos`: earlier tokens at value / max, none elsewhere.</summary>
    private static void AssertShading(LmAnalysis a, LmAttributionMethod method, int pos, JsonElement state)
    {
        var row = a.Attributions[method][pos - a.FirstGeneratedIndex].Normalized;
        float max = row.Max();
        var shades = Shades(state);
        Assert.Equal(a.TokenIds.Length, shades.Length);
        for (int i = 0; i < shades.Length; i++)
        {
            if (i < pos) Assert.Equal(row[i] / max, shades[i]!.Value, 1e-5);
            else Assert.Null(shades[i]);
        }
        Assert.Equal(pos.ToString(CultureInfo.InvariantCulture), state.GetProperty("shown").GetString());
        Assert.Equal(a.TokenIds.Length - 1 - pos, state.GetProperty("future").GetInt32());
        // The bars: one per earlier token, its share as the page prints it.
        Assert.Equal(row.Select(v => (100 * v).ToString("0.00", CultureInfo.InvariantCulture) + "%").ToArray(), Strings(state, "bars"), new ShareComparer());
    }

    /// <summary>An "hsl(h, s%, l%)" colour equals Chromium's computed "rgb(r, g, b)" (±1 per channel for rounding).</summary>
    private static void AssertColor(string hsl, string computed)
    {
        var h = Regex.Match(hsl, "hsl\\((\\d+), (\\d+)%, (\\d+)%\\)");
        double hue = double.Parse(h.Groups[1].Value, CultureInfo.InvariantCulture), s = double.Parse(h.Groups[2].Value, CultureInfo.InvariantCulture) / 100, l = double.Parse(h.Groups[3].Value, CultureInfo.InvariantCulture) / 100;
        double c = (1 - Math.Abs(2 * l - 1)) * s, m = l - c / 2;
        double[] want = hue == 120 ? [m, c + m, m] : [c + m, m, m]; // the two hues TokenCss uses
        var got = Regex.Match(computed, "rgb\\((\\d+), (\\d+), (\\d+)\\)");
        Assert.True(got.Success, $"computed colour {computed}");
        for (int k = 0; k < 3; k++)
            Assert.True(Math.Abs(want[k] * 255 - int.Parse(got.Groups[k + 1].Value, CultureInfo.InvariantCulture)) <= 1, $"{hsl} is not {computed}");
    }

    private sealed class ShareComparer : IEqualityComparer<string>
    {
        // JavaScript's toFixed and .NET's formatting may round a last-digit tie differently.
        public bool Equals(string? x, string? y) => Math.Abs(double.Parse(x!.TrimEnd('%'), CultureInfo.InvariantCulture) - double.Parse(y!.TrimEnd('%'), CultureInfo.InvariantCulture)) <= 0.011;
        public int GetHashCode(string s) => 0;
    }

    [Fact]
    public void EccoViewsRenderAndRespondInChromium()
    {
        HeadlessChromium.RequireInstalled();
        var analysis = s_analyzer.Value.Generate("ROMEO:", new LmGenerateOptions
        {
            MaxNewTokens = 4,
            Attributions = [LmAttributionMethod.IntegratedGradients, LmAttributionMethod.Saliency],
            IgSteps = 8,
        });
        int first = analysis.FirstGeneratedIndex, last = analysis.TokenIds.Length - 1;
        Assert.True(last - first >= 2, "the test needs at least three generated tokens");
        string[] watch = ["Ġthe", analysis.Tokens[first]];
        string html = LmAnalysisHtml.Render(analysis, "gpt2-shakespeare-tiny", new LmViewOptions { NmfComponents = 3, Watch = watch, TopK = 5, TokenText = Decode });
        var probe = RunProbe(html, out string dom);

        // Generated tokens, as the tokenizer decodes them, in the text view, the lens selector and under the rankings.
        foreach (int id in analysis.GeneratedIds)
        {
            string shown = DomText(Visible(Decode(id)));
            Assert.Contains($"<span class=\"lm-t\">{shown}</span>", dom);
            Assert.Contains($"<th class=\"lm-axis-tok lm-out\">{shown}</th>", dom);
        }
        Assert.Equal(analysis.LayerCount, Regex.Matches(dom, "<tr><th>Layer \\d+</th>").Count / (1 + (last - first + 1) + 1)); // rankings + each lens table + watch table
        // Watched tokens label the lines and head the watch table.
        Assert.Contains("> the</text>", dom);
        Assert.Contains($"<th class=\"lm-axis-tok lm-watch-token\">{DomText(Visible(analysis.Tokens[first].Replace('Ġ', ' ')))}</th>", dom);
        // NMF: the factor selector's options.
        Assert.Matches("<select id=\"lm-nmf-factor\"><option value=\"all\">All factors</option><option value=\"0\">Factor 1</option><option value=\"1\">Factor 2</option><option value=\"2\">Factor 3</option></select>", dom);

        // On load, the first generated token is selected (Ecco's selectFirstToken) with the first method.
        AssertShading(analysis, LmAttributionMethod.IntegratedGradients, first, probe.GetProperty("initial"));
        Assert.Equal([first.ToString(CultureInfo.InvariantCulture)], Strings(probe.GetProperty("initial"), "selected"));
        // Hovering the last generated token shades every earlier token by its share, and the colours change.
        var hover = probe.GetProperty("hoverLast");
        AssertShading(analysis, LmAttributionMethod.IntegratedGradients, last, hover);
        var before = Strings(probe.GetProperty("initial"), "colors");
        var after = Strings(hover, "colors");
        Assert.NotEqual(before[first], after[first]); // the first generated token was the selected one; now it is an earlier token, shaded
        Assert.Contains(Enumerable.Range(0, first), i => before[i] != after[i]);
        // Each earlier token's computed background is the explainers' colour of its share (ColorScale.TokenCss).
        var igLast = analysis.Attributions[LmAttributionMethod.IntegratedGradients][last - first].Normalized;
        for (int i = 0; i < last; i++) AssertColor(ColorScale.TokenCss(igLast[i] / igLast.Max()), after[i]);
        AssertColor("hsl(0, 75%, 100%)", after[last]); // the hovered token itself is not shaded
        // Leaving the text returns to the selected token.
        AssertShading(analysis, LmAttributionMethod.IntegratedGradients, first, probe.GetProperty("left"));
        // Clicking the second generated token selects it, and the logit lens follows.
        var clicked = probe.GetProperty("clicked");
        AssertShading(analysis, LmAttributionMethod.IntegratedGradients, first + 1, clicked);
        Assert.Equal([(first + 1).ToString(CultureInfo.InvariantCulture)], Strings(clicked, "lens"));
        Assert.Equal([first.ToString(CultureInfo.InvariantCulture)], Strings(probe.GetProperty("initial"), "lens"));
        // Switching the method re-shades the same token with saliency.
        AssertShading(analysis, LmAttributionMethod.Saliency, first + 1, probe.GetProperty("saliency"));

        // NMF: "all factors" colours each token by its strongest factor; one factor shades by its strength.
        var f = analysis.Nmf(3);
        float Value(int c, int i) => f.Components[c][i < first ? i : i - 1];
        var all = Strings(probe.GetProperty("nmfAll"), "factors");
        for (int i = 0; i < all.Length; i++)
        {
            int strongest = Enumerable.Range(0, 3).Aggregate(0, (k, c) => Value(c, i) > Value(k, i) ? c : k);
            Assert.Equal(strongest.ToString(CultureInfo.InvariantCulture), all[i]);
        }
        var one = probe.GetProperty("nmfOne");
        Assert.All(Strings(one, "factors"), k => Assert.Equal("1", k));
        float max1 = Enumerable.Range(0, analysis.TokenIds.Length).Max(i => Value(1, i));
        var shades1 = Shades(one);
        for (int i = 0; i < shades1.Length; i++) Assert.Equal(Value(1, i) / max1, shades1[i]!.Value, 1e-5);
        Assert.NotEqual(Strings(probe.GetProperty("nmfAll"), "colors"), Strings(one, "colors"));
    }

    [Fact]
    public void HostilePromptStaysTextInChromium()
    {
        HeadlessChromium.RequireInstalled();
        const string Prompt = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">ROMEO:";
        var analysis = s_analyzer.Value.Generate(Prompt, new LmGenerateOptions { MaxNewTokens = 2, Attributions = [LmAttributionMethod.Saliency] });
        string html = LmAnalysisHtml.Render(analysis, "<b>model</b>", new LmViewOptions { NmfComponents = 2, Watch = ["Ġthe"], TokenText = Decode });
        Assert.Single(Regex.Matches(html, "<script>"));
        string path = PageAssertions.WriteTemp(html);
        try
        {
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Contains("<title>Glassbox language-model analysis</title>", dom);
            Assert.DoesNotContain("pwned</title>", dom);
            Assert.DoesNotContain("<img", dom);
            Assert.Contains("&lt;script&gt;", dom);           // the prompt's tags are shown as text
            Assert.Contains("&lt;b&gt;model&lt;/b&gt;", dom);
            Assert.Contains("data-shown=\"", dom);           // and the page's own script still ran
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}

internal static class SharedModels
{
    public static string Dir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "models");
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
            throw new DirectoryNotFoundException("../shared/models was not found above the test binaries; CI places shared/ beside the repository.");
        }
    }
}
