using Glassbox.Explain.Explainers;
using Glassbox.Explain.Quality;
using Glassbox.Models.Images;
using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class QualityBrowserTests
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
    public void QualityReportShowsTheMethodsAndSvgCurvesInChromium()
    {
        HeadlessChromium.RequireInstalled();
        var explainer = SequenceClassificationExplainer.FromPretrained(Path.Combine(SharedDir, "models", "distilbert-sst2-tiny"), new ExplainerOptions { Steps = 8 });
        string[] texts = ["it 's a charming and often affecting journey .", "unflinchingly bleak and desperate", "a sometimes tedious film ."];
        var report = new ExplanationEvaluator(explainer).Evaluate(texts.Select(t => new EvaluationExample(t)).ToList(), [AttributionMethod.Lig, AttributionMethod.Saliency]);
        string path = PageAssertions.WriteTemp(QualityHtml.Render(report));
        try
        {
            const int width = 1400, height = 2600;
            var png = HeadlessChromium.Screenshot(path, width, height);
            PageAssertions.IsNonBlankScreenshot(png, width, height);
            // The first method's colour (#1f77b4) is drawn only by the SVG figures (curves, legend, bars):
            // finding it in the screenshot proves the inline SVG rendered.
            var rgb = Png.Decode(png).ToRgb();
            int blue = 0;
            for (int i = 0; i + 2 < rgb.Pixels.Length; i += 3)
                if (rgb.Pixels[i] == 0x1f && rgb.Pixels[i + 1] == 0x77 && rgb.Pixels[i + 2] == 0xb4) blue++;
            Assert.True(blue > 200, $"only {blue} pixels of the first method's colour: the SVG figures did not render");

            string dom = HeadlessChromium.DumpDom(path);
            Assert.Contains("Methods compared", dom);
            Assert.Contains("<strong>lig</strong>", dom);
            Assert.Contains("<strong>saliency</strong>", dom);
            Assert.Contains("random (baseline)", dom);
            Assert.Contains("<svg class=\"chart\" id=\"chart-deletion\"", dom);
            Assert.Contains("<path class=\"curve\" data-method=\"lig\"", dom);
            Assert.Contains("<path class=\"curve\" data-method=\"saliency\"", dom);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
