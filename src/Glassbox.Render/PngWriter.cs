// A PNG encoder with no dependency beyond the BCL: 8-bit grayscale, RGB or RGBA, one IDAT chunk
// compressed with System.IO.Compression's zlib stream, each scanline filtered with the filter
// whose output has the smallest sum of absolute values (the libpng heuristic), CRC-32 per chunk.
using System.Buffers.Binary;
using System.IO.Compression;
using Glassbox.Models.Images;

namespace Glassbox.Render;

public enum PngPixelFormat { Gray8 = 1, Rgb8 = 3, Rgba8 = 4 }

public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes row-major, channel-interleaved 8-bit pixels as a PNG file's bytes.</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> pixels, PngPixelFormat format)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"PNG size {width}×{height} must be positive.");
        int channels = (int)format;
        if (!Enum.IsDefined(format)) throw new ArgumentException($"Unknown pixel format {format}.", nameof(format));
        long expected = (long)width * height * channels;
        if (pixels.Length != expected)
            throw new ArgumentException($"PNG {width}×{height} {format} needs {expected} bytes of pixels, got {pixels.Length}.");
        if ((long)width * channels + 1 > int.MaxValue) throw new ArgumentException($"PNG width {width} is too large.");

        using var file = new MemoryStream();
        file.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = format switch { PngPixelFormat.Gray8 => 0, PngPixelFormat.Rgb8 => 2, _ => 6 };
        ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0; // deflate, adaptive filtering, no interlace
        WriteChunk(file, "IHDR"u8, ihdr);

        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
            {
                int stride = width * channels;
                var prev = new byte[stride];
                var best = new byte[stride + 1];
                var trial = new byte[stride + 1];
                for (int y = 0; y < height; y++)
                {
                    var row = pixels.Slice(y * stride, stride);
                    long bestCost = long.MaxValue;
                    for (byte f = 0; f <= 4; f++)
                    {
                        long cost = Filter(f, row, prev, channels, trial);
                        if (cost < bestCost) { bestCost = cost; trial.CopyTo(best, 0); }
                    }
                    z.Write(best);
                    row.CopyTo(prev);
                }
            }
            WriteChunk(file, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        }
        WriteChunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    public static byte[] Encode(RgbImage image) => Encode(image.Width, image.Height, image.Pixels, PngPixelFormat.Rgb8);

    public static byte[] Encode(RgbaImage image) => Encode(image.Width, image.Height, image.Pixels, PngPixelFormat.Rgba8);

    /// <summary>Writes the PNG atomically: to a temporary file next to path, then renamed over it.</summary>
    public static void Write(string path, int width, int height, ReadOnlySpan<byte> pixels, PngPixelFormat format) =>
        AtomicFile.WriteAllBytes(path, Encode(width, height, pixels, format));

    public static void Write(string path, RgbaImage image) => AtomicFile.WriteAllBytes(path, Encode(image));

    /// <summary>Filters one scanline into dst (filter byte first); returns the sum of |signed bytes|.</summary>
    private static long Filter(byte type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        dst[0] = type;
        long cost = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
            int predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte v = unchecked((byte)(row[i] - predictor));
            dst[i + 1] = v;
            int signed = (sbyte)v;
            cost += signed < 0 ? -signed : signed;
        }
        return cost;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        s.Write(type);
        s.Write(data);
        uint crc = Crc32.Update(0xFFFFFFFFu, type);
        crc = Crc32.Update(crc, data) ^ 0xFFFFFFFFu;
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        s.Write(crcBytes);
    }
}
