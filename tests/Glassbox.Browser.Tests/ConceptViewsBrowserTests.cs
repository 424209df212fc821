using Glassbox.Explain.Concepts;
using Glassbox.Explain.Hierarchy;
using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class ConceptViewsBrowserTests
{
    private static PhraseNode Leaf(int i, string text, double score) => new(i, i + 1, text, score, 0, []);

    [Fact]
    public void HierarchicalTreeRendersNestedNodesWithScores()
    {
        // the movie was not good: "not good" interacts.
        var notGood = new PhraseNode(3, 5, "not good", 0.71, 0.77, [Leaf(3, "not", -0.02), Leaf(4, "<b>good</b>", -0.04)]);
        var wasNotGood = new PhraseNode(2, 5, "was <b>not good</b>", 0.70, -0.01, [Leaf(2, "was", 0.0), notGood]);
        var theMovie = new PhraseNode(0, 2, "the movie", -0.05, 0.0, [Leaf(0, "the", 0.0), Leaf(1, "movie", -0.05)]);
        var root = new PhraseNode(0, 5, "the movie was not good", 0.66, 0.01, [theMovie, wasNotGood]);
        var e = new HierarchicalExplanation("the movie was not good", ["NEGATIVE", "POSITIVE"], 0, "NEGATIVE", 0.85,
            ["the", "movie", "was", "not", "<b>good</b>"], root, PhraseScoring.Soc, new Dictionary<string, string> { ["scoring"] = "soc" });
        string path = PageAssertions.WriteTemp(ConceptViews.HierarchicalPage(e));
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Equal(9, CountOf(dom, "class=\"ptree-node"));
            Assert.Contains("data-start=\"3\" data-end=\"5\" data-score=\"0.7100\" data-interaction=\"0.7700\"", dom);
            Assert.Contains("&lt;b&gt;good&lt;/b&gt;", dom); // hostile text stays text
            Assert.DoesNotContain("<b>good</b>", dom);
            Assert.Contains("mainly because of 'not good' (+0.71)", dom);
            Assert.Contains(">NEGATIVE</span>", dom);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void TcavPageShowsScoresSignificanceAndTheStripPlot()
    {
        var significant = new TcavResult("negation", "blocks.1.hook_resid_post", "NEGATIVE", 0, 0.9, 0.05, [0.9, 0.85, 0.95, 0.9], [0.5, 0.4, 0.6, 0.55], 0.0002, true, 0.97, 24, 24);
        var random = new TcavResult("<script>x</script>", "blocks.0.hook_resid_post", "NEGATIVE", 0, 0.5, 0.1, [0.4, 0.6, 0.5, 0.5], [0.5, 0.45, 0.55, 0.5], 0.9, false, 0.55, 24, 24);
        string path = PageAssertions.WriteTemp(ConceptViews.TcavPage([significant, random]));
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Equal(8, CountOf(dom, "class=\"run\""));
            Assert.Equal(8, CountOf(dom, "class=\"random\""));
            Assert.Contains("The concept 'negation' raises NEGATIVE at blocks.1.hook_resid_post: TCAV score 0.90 (p &lt; 0.001, significant over 4 runs", dom);
            Assert.Contains("has no significant effect", dom);
            Assert.Contains("&lt;script&gt;x&lt;/script&gt;", dom);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static int CountOf(string s, string needle)
    {
        int n = 0;
        for (int i = s.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = s.IndexOf(needle, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
