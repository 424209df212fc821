namespace Glassbox.Render.Tests;

public class HtmlPageTests
{
    private const string Hostile = "</mark><script>alert('x')</script><img src=x onerror=\"alert(1)\">&amp;";

    [Fact]
    public void HostileTokenTextIsEscapedEverywhere()
    {
        var page = new HtmlPage(Hostile)
            .Prediction(Hostile, 0.75)
            .Tokens(Hostile, [new ScoredToken(Hostile, 0.5, 1.25), new ScoredToken("ok", -0.3)])
            .Table(Hostile, [Hostile], [[HtmlCell.Text(Hostile)], [HtmlCell.Tokens([new ScoredToken(Hostile, 1)])]])
            .Facts(Hostile, [(Hostile, Hostile)])
            .Warnings([Hostile]);
        string html = page.ToHtml([(Hostile, Hostile)]);

        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("</mark><script", html);
        Assert.Equal(1, Count(html, "<script>")); // only the page's own script
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        Assert.Contains("&amp;amp;", html);
    }

    [Fact]
    public void PageIsSelfContained()
    {
        string html = new HtmlPage("t").Prediction("POSITIVE", 0.9).Tokens("w", [new ScoredToken("good", 0.9)])
            .Image("img", PngWriter.Encode(new RgbaImage(2, 2)), "heatmap").ToHtml();
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<link", html);
        Assert.Contains("default-src 'none'", html);
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("id=\"predicted-label\" class=\"label\">POSITIVE<", html);
        Assert.Contains("0.9000", html);
        Assert.Contains("Negative", html);
        Assert.Contains("Positive", html);
    }

    [Fact]
    public void TokenColoursFollowTheSign()
    {
        Assert.Equal("hsl(120, 75%, 55%)", ColorScale.TokenCss(0.9));
        Assert.Equal("hsl(0, 75%, 64%)", ColorScale.TokenCss(-0.9));
        Assert.Equal("hsl(0, 75%, 100%)", ColorScale.TokenCss(0));
        Assert.Equal(ColorScale.TokenCss(1), ColorScale.TokenCss(7));
    }

    private static int Count(string s, string what)
    {
        int n = 0, at = 0;
        while ((at = s.IndexOf(what, at, StringComparison.Ordinal)) >= 0) { n++; at += what.Length; }
        return n;
    }
}
