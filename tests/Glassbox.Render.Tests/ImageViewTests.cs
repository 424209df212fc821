using Glassbox.Models.Images;

namespace Glassbox.Render.Tests;

public class ImageViewTests
{
    private static RgbImage Grey(int w, int h, byte v) => new(w, h, Enumerable.Repeat(v, w * h * 3).ToArray());

    [Fact]
    public void CumulativeSumThresholdIsCaptumsDefinition()
    {
        // sorted 1,2,3,4 (sum 10): 50% of the total is reached at 3 (1+2+3 = 6 ≥ 5).
        Assert.Equal(3, ImageViews.CumulativeSumThreshold([4, 1, 3, 2], 50));
        Assert.Equal(4, ImageViews.CumulativeSumThreshold([4, 1, 3, 2], 100));
    }

    [Fact]
    public void NormalizeClipsOutliersAndFiltersBySign()
    {
        float[] map = [-1, 0.5f, 1, 100];
        var all = ImageViews.Normalize(map, AttributionSign.All, 10);
        Assert.All(all, v => Assert.InRange(v, -1, 1));
        Assert.Equal(1, all[3]); // the outlier is clipped

        var pos = ImageViews.Normalize(map, AttributionSign.Positive, 0);
        Assert.Equal(0, pos[0]);
        Assert.Equal(1, pos[3]);

        var neg = ImageViews.Normalize(map, AttributionSign.Negative, 0);
        Assert.Equal(1, neg[0]); // negative attributions become positive strengths
        Assert.Equal(0, neg[3]);

        var abs = ImageViews.Normalize(map, AttributionSign.AbsoluteValue, 0);
        Assert.True(abs[0] > 0);
        Assert.All(ImageViews.Normalize(new float[4], AttributionSign.All, 2), v => Assert.Equal(0, v));
    }

    [Fact]
    public void HeatmapColoursBySign()
    {
        var heat = ImageViews.Heatmap([-1, 0, 1, 0], 2, 2, new ImageViewOptions { OutlierPercent = 0 });
        var neg = heat.Get(0, 0); var zero = heat.Get(1, 0); var pos = heat.Get(0, 1);
        Assert.True(neg.R > neg.G);
        Assert.Equal(new Rgb(255, 255, 255), zero);
        Assert.True(pos.G > pos.R);
    }

    [Fact]
    public void MaskedAndAlphaViewsScaleByAttribution()
    {
        var image = Grey(2, 1, 200);
        float[] map = [0, 1];
        var masked = ImageViews.MaskedImage(image, map, new ImageViewOptions { Sign = AttributionSign.Positive, OutlierPercent = 0 });
        Assert.Equal(new Rgb(0, 0, 0), masked.Get(0, 0));
        Assert.Equal(new Rgb(200, 200, 200), masked.Get(1, 0));
        var alpha = ImageViews.AlphaScaling(image, map, new ImageViewOptions { Sign = AttributionSign.Positive, OutlierPercent = 0 });
        Assert.Equal(0, alpha.Alpha(0, 0));
        Assert.Equal(255, alpha.Alpha(1, 0));
    }

    [Fact]
    public void SideBySideAndScaleSizes()
    {
        var image = Grey(4, 3, 90);
        var map = new float[12];
        map[5] = 1;
        foreach (ImageView view in Enum.GetValues<ImageView>())
        {
            var v = ImageViews.Render(view, image, map, new ImageViewOptions { SideBySide = true, Scale = 2 });
            Assert.Equal((4 + 4 + 4) * 2, v.Width);
            Assert.Equal(3 * 2, v.Height);
            Assert.Equal(v.Width, Png.Decode(v.ToPng()).Width);
        }
    }

    [Fact]
    public void MismatchedMapIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageViews.Overlay(Grey(4, 4, 0), new float[5]));
        Assert.Contains("4×4", e.Message);
    }
}
