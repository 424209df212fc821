// Colours of the language-model views. The rank views use Ecco's matplotlib colour maps: the
// rankings heatmap RdPu reversed and the rankings-watch table GnBu reversed, both cut to the 0.4–0.9
// part of the map, on a log scale from rank 2 to rank 5000; rank 1 gets the map's "under" colour
// and ranks past 5000 are white (lm_plots.plot_inner_token_rankings[_watch]). NMF factors get
// matplotlib's tab10 colours, then golden-angle hues past ten factors.
using System.Globalization;

namespace Glassbox.Render;

internal static class LmColors
{
    /// <summary>Ecco's log-norm range of the rank colour maps.</summary>
    public const double RankMin = 2, RankMax = 5000;

    // ColorBrewer's nine-class RdPu and GnBu (matplotlib's _RdPu_data and _GnBu_data).
    private static readonly Rgb[] RdPu = Hex("#fff7f3 #fde0dd #fcc5c0 #fa9fb5 #f768a1 #dd3497 #ae017e #7a0177 #49006a");
    private static readonly Rgb[] GnBu = Hex("#f7fcf0 #e0f3db #ccebc5 #a8ddb5 #7bccc4 #4eb3d3 #2b8cbe #0868ac #084081");
    private static readonly Rgb RdPuUnder = new(0x9a, 0x01, 0x7b), GnBuUnder = new(0x1a, 0x7b, 0xb5), White = new(255, 255, 255);

    private static readonly Rgb[] Tab10 = Hex("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf");

    /// <summary>Colour of a rank in the rankings heatmap (watch = false) or the rankings-watch table (watch = true).</summary>
    public static Rgb Rank(int rank, bool watch)
    {
        if (rank < RankMin) return watch ? GnBuUnder : RdPuUnder;
        if (rank > RankMax) return White;
        double x = (Math.Log(rank) - Math.Log(RankMin)) / (Math.Log(RankMax) - Math.Log(RankMin));
        // The reversed map sampled from 0.4 to 0.9 is the forward map from 0.6 down to 0.1.
        return Sample(watch ? GnBu : RdPu, 0.6 - 0.5 * x);
    }

    /// <summary>The colour bar of a rank map: CSS linear-gradient stops from rank 2 to rank 5000.</summary>
    public static string RankGradientCss(bool watch)
    {
        var stops = Enumerable.Range(0, 9).Select(i =>
        {
            double rank = Math.Exp(Math.Log(RankMin) + i / 8.0 * (Math.Log(RankMax) - Math.Log(RankMin)));
            return $"{Rank((int)Math.Round(rank), watch).Css} {(i * 12.5).ToString("0.#", CultureInfo.InvariantCulture)}%";
        });
        return $"linear-gradient(to right, {string.Join(", ", stops)})";
    }

    /// <summary>Black or white, whichever reads on the background.</summary>
    public static string TextOn(Rgb c) => 0.2126 * c.R + 0.7152 * c.G + 0.0722 * c.B < 128 ? "#fff" : "#111";

    /// <summary>Factor k's colour as #rrggbb.</summary>
    public static string Factor(int k)
    {
        if (k < Tab10.Length) return Tab10[k].Css;
        double hue = (k * 137.50776) % 360;
        return FromHsl(hue, 0.65, 0.45).Css;
    }

    private static Rgb Sample(Rgb[] map, double t)
    {
        t = Math.Clamp(t, 0, 1) * (map.Length - 1);
        int i = Math.Min((int)t, map.Length - 2);
        return Rgb.Lerp(map[i], map[i + 1], t - i);
    }

    private static Rgb FromHsl(double h, double s, double l)
    {
        double c = (1 - Math.Abs(2 * l - 1)) * s, hp = h / 60, x = c * (1 - Math.Abs(hp % 2 - 1)), m = l - c / 2;
        var (r, g, b) = hp switch { < 1 => (c, x, 0.0), < 2 => (x, c, 0.0), < 3 => (0.0, c, x), < 4 => (0.0, x, c), < 5 => (x, 0.0, c), _ => (c, 0.0, x) };
        return new Rgb((byte)Math.Round((r + m) * 255), (byte)Math.Round((g + m) * 255), (byte)Math.Round((b + m) * 255));
    }

    private static Rgb[] Hex(string list) => [.. list.Split(' ').Select(h => new Rgb(
        byte.Parse(h.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        byte.Parse(h.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        byte.Parse(h.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)))];
}
