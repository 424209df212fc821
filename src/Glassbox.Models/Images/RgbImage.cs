namespace Glassbox.Models.Images;

/// <summary>An 8-bit RGB image, row-major, channels interleaved (what PIL calls mode "RGB").</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"RgbImage: size {width}×{height} must be positive.");
        if (pixels.LongLength != 3L * width * height)
            throw new ArgumentException($"RgbImage: {pixels.Length} bytes for {width}×{height} pixels; RGB needs {3L * width * height}.");
        Width = width; Height = height; Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * 3;
            return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    /// <summary>Reads a PNG or a baseline JPEG file (sniffed by content, not extension) as RGB.</summary>
    public static RgbImage Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found.", path);
        Span<byte> head = stackalloc byte[8];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        if (Png.IsPng(head[..n])) return Png.Read(path).ToRgb();
        if (Jpeg.IsJpeg(head[..n])) return Jpeg.Read(path);
        throw new ImageFormatException($"{path}: neither PNG nor JPEG (unrecognised signature {Convert.ToHexString(head[..n])}).");
    }
}
