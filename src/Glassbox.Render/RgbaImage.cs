using Glassbox.Models.Images;

namespace Glassbox.Render;

/// <summary>An 8-bit RGBA image, row-major, channels interleaved.</summary>
public sealed class RgbaImage
{
    public RgbaImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"RgbaImage: size {width}×{height} must be positive.");
        pixels ??= new byte[4L * width * height];
        if (pixels.LongLength != 4L * width * height)
            throw new ArgumentException($"RgbaImage: {pixels.Length} bytes for {width}×{height} pixels; RGBA needs {4L * width * height}.");
        Width = width; Height = height; Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public static RgbaImage FromRgb(RgbImage rgb)
    {
        var p = new byte[4 * rgb.Width * rgb.Height];
        for (int i = 0, n = rgb.Width * rgb.Height; i < n; i++)
        {
            p[4 * i] = rgb.Pixels[3 * i]; p[4 * i + 1] = rgb.Pixels[3 * i + 1]; p[4 * i + 2] = rgb.Pixels[3 * i + 2]; p[4 * i + 3] = 255;
        }
        return new RgbaImage(rgb.Width, rgb.Height, p);
    }

    public void Set(int x, int y, Rgb c, byte alpha = 255)
    {
        int i = 4 * (y * Width + x);
        Pixels[i] = c.R; Pixels[i + 1] = c.G; Pixels[i + 2] = c.B; Pixels[i + 3] = alpha;
    }

    public Rgb Get(int x, int y)
    {
        int i = 4 * (y * Width + x);
        return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    public byte Alpha(int x, int y) => Pixels[4 * (y * Width + x) + 3];

    /// <summary>Nearest-neighbour scaling by an integer factor (keeps attribution pixels crisp).</summary>
    public RgbaImage Scale(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), $"Scale factor must be at least 1, got {factor}.");
        if (factor == 1) return this;
        var r = new RgbaImage(Width * factor, Height * factor);
        for (int y = 0; y < r.Height; y++)
            for (int x = 0; x < r.Width; x++)
                Buffer.BlockCopy(Pixels, 4 * ((y / factor) * Width + x / factor), r.Pixels, 4 * (y * r.Width + x), 4);
        return r;
    }

    public byte[] ToPng() => PngWriter.Encode(this);
}

public readonly record struct Rgb(byte R, byte G, byte B)
{
    public string Css => $"#{R:x2}{G:x2}{B:x2}";

    public static Rgb Lerp(Rgb a, Rgb b, double t)
    {
        t = Math.Clamp(t, 0, 1);
        return new Rgb(L(a.R, b.R), L(a.G, b.G), L(a.B, b.B));
        byte L(byte x, byte y) => (byte)Math.Round(x + (y - x) * t);
    }
}
