using Glassbox.Models.Images;

namespace Glassbox.Browser.Tests;

internal static class PageAssertions
{
    /// <summary>The bytes are a PNG of the window's size whose pixels are not all one colour.</summary>
    public static void IsNonBlankScreenshot(byte[] png, int width, int height)
    {
        Assert.True(png.Length > 0, "the screenshot is empty");
        Assert.True(Png.IsPng(png), "the screenshot is not a PNG");
        var rgb = Png.Decode(png).ToRgb();
        Assert.Equal(width, rgb.Width);
        Assert.Equal(height, rgb.Height);
        var p = rgb.Pixels;
        bool varied = false;
        for (int i = 3; i < p.Length && !varied; i += 3)
            varied = p[i] != p[0] || p[i + 1] != p[1] || p[i + 2] != p[2];
        Assert.True(varied, "the screenshot is a single colour: the page rendered nothing");
    }

    public static string WriteTemp(string html)
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-page-").FullName;
        string path = Path.Combine(dir, "explanation.html");
        File.WriteAllText(path, html);
        return path;
    }
}
