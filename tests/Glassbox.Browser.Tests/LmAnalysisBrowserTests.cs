using Glassbox.Explain.LanguageModels;
using Glassbox.Render;

namespace Glassbox.Browser.Tests;

public class LmAnalysisBrowserTests
{
    [Fact]
    public void EccoViewsRenderInChromiumWithTheGeneratedTokens()
    {
        HeadlessChromium.RequireInstalled();
        string shared = SharedModels.Dir;
        var analyzer = LanguageModelAnalyzer.FromPretrained(Path.Combine(shared, "gpt2-shakespeare-tiny"));
        var analysis = analyzer.Generate("ROMEO:", new LmGenerateOptions
        {
            MaxNewTokens = 3,
            Attributions = [LmAttributionMethod.Saliency, LmAttributionMethod.IntegratedGradients],
            IgSteps = 8,
        });
        string html = LmAnalysisHtml.Render(analysis, "gpt2-shakespeare-tiny", new LmViewOptions { NmfComponents = 2 });
        string path = PageAssertions.WriteTemp(html);
        try
        {
            PageAssertions.IsNonBlankScreenshot(HeadlessChromium.Screenshot(path), 1000, 700);
            string dom = HeadlessChromium.DumpDom(path);
            foreach (var token in analysis.Tokens[analysis.FirstGeneratedIndex..])
                Assert.Contains(token.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;"), dom); // DOM serialisation escapes only these in text
            Assert.Contains("Input attributions: Saliency", dom);
            Assert.Contains("Input attributions: IntegratedGradients", dom);
            Assert.Contains("Logit lens", dom);
            Assert.Contains("Rankings", dom);
            Assert.Contains("Neuron activation factors", dom);
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
