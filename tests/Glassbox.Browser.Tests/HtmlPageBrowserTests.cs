using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class HtmlPageBrowserTests
{
    [Fact]
    public void PageWithTokensTablesAndImageRendersWithThePrediction()
    {
        var heat = ImageViews.Heatmap([-1, -0.5f, 0, 0.5f, 1, 0.25f], 3, 2).Scale(40);
        string html = new HtmlPage("Glassbox explanation: sequence-classification")
            .Prediction("POSITIVE", 0.93)
            .Tokens("Word importance", [new("[CLS]", 0, IsSpecial: true), new("a", 0.1), new("gripping", 0.8), new("<b>film</b>", -0.6), new("[SEP]", 0, IsSpecial: true)])
            .Table("Class probabilities", ["Class", "Probability"], [[HtmlCell.Text("NEGATIVE"), HtmlCell.Number(0.07)], [HtmlCell.Text("POSITIVE", true), HtmlCell.Number(0.93)]])
            .Image("Heatmap", heat.ToPng(), "heatmap")
            .ToHtml([("method", "lig")]);
        string path = PageAssertions.WriteTemp(html);
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Contains("id=\"predicted-label\" class=\"label\">POSITIVE</span>", dom);
            Assert.Contains("&lt;b&gt;film&lt;/b&gt;", dom); // hostile token text stayed text
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
