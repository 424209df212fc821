// Colours for attribution scores. Text views colour a token by its signed normalised score the
// way transformers-interpret's HTML does: green for positive (lighter → darker as the score grows),
// red for negative, white at zero. Image views use the colour maps Captum's visualize_image_attr
// picks per sign: red–white–green for all signs, greens for positive, reds for negative, blues for
// absolute value.
namespace Glassbox.Render;

public enum ColorMap { RedWhiteGreen, Greens, Reds, Blues }

public static class ColorScale
{
    /// <summary>CSS colour of a token whose score is in [-1, 1] (values outside are clamped).</summary>
    public static string TokenCss(double score)
    {
        if (double.IsNaN(score)) score = 0;
        score = Math.Clamp(score, -1, 1);
        // hsl: hue 120 (green) for positive, 0 (red) for negative; lightness falls with |score|.
        int hue = score > 0 ? 120 : 0;
        int light = score > 0 ? 100 - (int)(50 * score) : 100 - (int)(40 * -score);
        return $"hsl({hue}, 75%, {light}%)";
    }

    private static readonly Rgb White = new(255, 255, 255);
    private static readonly Rgb Red = new(214, 39, 40);
    private static readonly Rgb Green = new(44, 160, 44);
    private static readonly Rgb Blue = new(31, 119, 180);

    /// <summary>The map's colour at t (t in [-1, 1] for RedWhiteGreen, [0, 1] otherwise).</summary>
    public static Rgb Map(ColorMap map, double t)
    {
        if (double.IsNaN(t)) t = 0;
        return map switch
        {
            ColorMap.RedWhiteGreen => t < 0 ? Rgb.Lerp(White, Red, -t) : Rgb.Lerp(White, Green, t),
            ColorMap.Greens => Rgb.Lerp(White, Green, t),
            ColorMap.Reds => Rgb.Lerp(White, Red, t),
            _ => Rgb.Lerp(White, Blue, t),
        };
    }
}
