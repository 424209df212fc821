using Glassbox.Explain.Explainers;
using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class ExplanationBrowserTests
{
    private static string SharedDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "models");
                if (Directory.Exists(candidate)) return Path.GetFullPath(Path.Combine(candidate, ".."));
            }
            return "/work/shared";
        }
    }

    [Fact]
    public void SequenceClassificationExplanationRendersInChromium()
    {
        HeadlessChromium.RequireInstalled();
        string model = Path.Combine(SharedDir, "models", "distilbert-sst2-tiny");
        var explanation = SequenceClassificationExplainer.FromPretrained(model, new ExplainerOptions { Steps = 10 })
            .Explain("A gripping, beautifully acted film.");
        string path = PageAssertions.WriteTemp(ExplanationHtml.Render(explanation));
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Contains($"id=\"predicted-label\" class=\"label\">{explanation.PredictedClassName}</span>", dom);
            Assert.Contains("gripping", dom);
            Assert.Contains("Provenance", dom);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void ImageExplanationRendersInChromium()
    {
        HeadlessChromium.RequireInstalled();
        string model = Path.Combine(SharedDir, "models", "vit-tiny-random");
        var explanation = ImageClassificationExplainer.FromPretrained(model, new ImageExplainerOptions { Type = ImageAttributionType.Saliency })
            .Explain(Path.Combine(model, "example.png"));
        string path = PageAssertions.WriteTemp(ExplanationHtml.Render(explanation));
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            Assert.Contains($"id=\"predicted-label\" class=\"label\">{explanation.PredictedClassName}</span>", dom);
            Assert.Contains("data:image/png;base64,", dom);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
