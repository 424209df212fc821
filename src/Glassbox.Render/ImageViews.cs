// Views of a pixel-attribution map [height, width] (channels already summed), with the choices
// transformers-interpret's ImageClassificationExplainer.visualize offers through Captum's
// visualize_image_attr: heatmap, overlay (heatmap over a grey copy of the image), masked image
// (image × normalised attribution), alpha scaling (attribution as the alpha channel), any of them
// side by side with the original, a sign filter (all, positive, negative, absolute value), and
// outlier clipping: values are divided by the magnitude below which the given percent of the
// total absolute attribution lies (Captum's cumulative-sum threshold), then clipped to [-1, 1].
using Glassbox.Models.Images;

namespace Glassbox.Render;

public enum AttributionSign { All, Positive, Negative, AbsoluteValue }

public enum ImageView { Heatmap, Overlay, MaskedImage, AlphaScaling }

public sealed record ImageViewOptions
{
    public AttributionSign Sign { get; init; } = AttributionSign.All;
    /// <summary>Percent of the total |attribution| treated as outliers and clipped (Captum's outlier_perc).</summary>
    public double OutlierPercent { get; init; } = 2;
    /// <summary>Colour map; null = the sign's default (red–white–green for all, greens, reds, blues).</summary>
    public ColorMap? ColorMap { get; init; }
    /// <summary>Opacity of the heatmap in the overlay view.</summary>
    public double OverlayAlpha { get; init; } = 0.5;
    /// <summary>Put the original image to the left of the view.</summary>
    public bool SideBySide { get; init; }
    /// <summary>Integer upscaling (nearest neighbour) so that small model inputs stay visible.</summary>
    public int Scale { get; init; } = 1;
}

public static class ImageViews
{
    public static ColorMap DefaultColorMap(AttributionSign sign) => sign switch
    {
        AttributionSign.All => ColorMap.RedWhiteGreen,
        AttributionSign.Positive => ColorMap.Greens,
        AttributionSign.Negative => ColorMap.Reds,
        _ => ColorMap.Blues,
    };

    /// <summary>The value at which the sorted |values|' running sum first reaches percentile % of their total.</summary>
    public static double CumulativeSumThreshold(ReadOnlySpan<float> absValues, double percentile)
    {
        if (absValues.Length == 0) return 0;
        var sorted = absValues.ToArray();
        Array.Sort(sorted);
        double total = 0;
        foreach (var v in sorted) total += v;
        double goal = total * 0.01 * percentile, running = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            running += sorted[i];
            if (running >= goal) return sorted[i];
        }
        return sorted[^1];
    }

    /// <summary>Attribution map filtered by sign and scaled into [-1, 1] (All) or [0, 1] (other signs).</summary>
    public static float[] Normalize(ReadOnlySpan<float> map, AttributionSign sign, double outlierPercent)
    {
        if (outlierPercent < 0 || outlierPercent >= 100 || double.IsNaN(outlierPercent))
            throw new ArgumentOutOfRangeException(nameof(outlierPercent), $"The outlier percent must be in [0, 100), got {outlierPercent}.");
        var v = new float[map.Length];
        for (int i = 0; i < v.Length; i++)
        {
            float a = float.IsFinite(map[i]) ? map[i] : 0;
            v[i] = sign switch
            {
                AttributionSign.Positive => Math.Max(a, 0),
                AttributionSign.Negative => Math.Min(a, 0),
                AttributionSign.AbsoluteValue => Math.Abs(a),
                _ => a,
            };
        }
        var abs = v.Select(Math.Abs).ToArray();
        double threshold = CumulativeSumThreshold(abs, 100 - outlierPercent);
        if (sign == AttributionSign.Negative) threshold = -threshold;
        if (threshold == 0 || !double.IsFinite(threshold)) return new float[v.Length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Math.Clamp(v[i] / threshold, -1, 1);
        return v;
    }

    public static RgbaImage Heatmap(ReadOnlySpan<float> map, int width, int height, ImageViewOptions? options = null)
    {
        var o = options ?? new ImageViewOptions();
        CheckSize(map.Length, width, height);
        var norm = Normalize(map, o.Sign, o.OutlierPercent);
        var cmap = o.ColorMap ?? DefaultColorMap(o.Sign);
        var img = new RgbaImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                img.Set(x, y, ColorScale.Map(cmap, norm[y * width + x]));
        return img;
    }

    /// <summary>The heatmap blended (OverlayAlpha) over the image's grey (channel mean) copy.</summary>
    public static RgbaImage Overlay(RgbImage image, ReadOnlySpan<float> map, ImageViewOptions? options = null)
    {
        var o = options ?? new ImageViewOptions();
        var heat = Heatmap(map, image.Width, image.Height, o);
        double alpha = Math.Clamp(o.OverlayAlpha, 0, 1);
        var img = new RgbaImage(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image[x, y];
                byte grey = (byte)Math.Round((r + g + b) / 3.0);
                img.Set(x, y, Rgb.Lerp(new Rgb(grey, grey, grey), heat.Get(x, y), alpha));
            }
        return img;
    }

    /// <summary>The image with every pixel multiplied by its normalised attribution (negative → black).</summary>
    public static RgbaImage MaskedImage(RgbImage image, ReadOnlySpan<float> map, ImageViewOptions? options = null)
    {
        var o = options ?? new ImageViewOptions();
        CheckSize(map.Length, image.Width, image.Height);
        var norm = Normalize(map, o.Sign, o.OutlierPercent);
        var img = new RgbaImage(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                double m = Math.Clamp(norm[y * image.Width + x], 0, 1);
                var (r, g, b) = image[x, y];
                img.Set(x, y, new Rgb((byte)Math.Round(r * m), (byte)Math.Round(g * m), (byte)Math.Round(b * m)));
            }
        return img;
    }

    /// <summary>The image with its alpha channel set from the normalised attribution (negative → transparent).</summary>
    public static RgbaImage AlphaScaling(RgbImage image, ReadOnlySpan<float> map, ImageViewOptions? options = null)
    {
        var o = options ?? new ImageViewOptions();
        CheckSize(map.Length, image.Width, image.Height);
        var norm = Normalize(map, o.Sign, o.OutlierPercent);
        var img = RgbaImage.FromRgb(image);
        for (int i = 0; i < norm.Length; i++) img.Pixels[4 * i + 3] = (byte)Math.Round(255 * Math.Clamp(norm[i], 0, 1));
        return img;
    }

    /// <summary>Images left to right on a white background with a gap between them, top-aligned.</summary>
    public static RgbaImage SideBySide(IReadOnlyList<RgbaImage> images, int gap = 4)
    {
        if (images.Count == 0) throw new ArgumentException("SideBySide needs at least one image.");
        int width = images.Sum(i => i.Width) + gap * (images.Count - 1), height = images.Max(i => i.Height);
        var r = new RgbaImage(width, height);
        Array.Fill(r.Pixels, (byte)255);
        int x0 = 0;
        foreach (var im in images)
        {
            for (int y = 0; y < im.Height; y++)
                Buffer.BlockCopy(im.Pixels, 4 * y * im.Width, r.Pixels, 4 * (y * width + x0), 4 * im.Width);
            x0 += im.Width + gap;
        }
        return r;
    }

    /// <summary>One view as configured: the chosen view, optionally next to the original, upscaled.</summary>
    public static RgbaImage Render(ImageView view, RgbImage image, ReadOnlySpan<float> map, ImageViewOptions? options = null)
    {
        var o = options ?? new ImageViewOptions();
        var v = view switch
        {
            ImageView.Heatmap => Heatmap(map, image.Width, image.Height, o),
            ImageView.Overlay => Overlay(image, map, o),
            ImageView.MaskedImage => MaskedImage(image, map, o),
            _ => AlphaScaling(image, map, o),
        };
        if (o.SideBySide) v = SideBySide([RgbaImage.FromRgb(image), v]);
        return v.Scale(o.Scale);
    }

    private static void CheckSize(int length, int width, int height)
    {
        if (width <= 0 || height <= 0 || (long)width * height != length)
            throw new ArgumentException($"The attribution map has {length} values but the image is {width}×{height}; they must match.");
    }
}
