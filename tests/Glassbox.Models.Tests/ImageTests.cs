using System.Buffers.Binary;
using System.IO.Compression;
using Glassbox.Models.Configs;
using Glassbox.Models.Images;

namespace Glassbox.Models.Tests;

/// <summary>A small PNG encoder for tests: any colour type/bit depth, Adam7, a chosen filter per row.</summary>
internal static class TestPng
{
    public static byte[] Encode(int w, int h, int depth, PngColorType type, ushort[] samples, bool interlace = false,
        Func<int, int>? filterForRow = null, byte[]? palette = null, byte[]? trns = null, int idatPieces = 1, IEnumerable<(string Type, byte[] Data)>? extra = null)
    {
        filterForRow ??= r => r % 5;
        int ch = type switch { PngColorType.Rgb => 3, PngColorType.GrayscaleAlpha => 2, PngColorType.Rgba => 4, _ => 1 };
        int bitsPerPixel = ch * depth, bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = new MemoryStream();
        (int X0, int Y0, int DX, int DY)[] passes = interlace
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        int rowCounter = 0;
        foreach (var (x0, y0, dx, dy) in passes)
        {
            int pw = w > x0 ? (w - x0 + dx - 1) / dx : 0, ph = h > y0 ? (h - y0 + dy - 1) / dy : 0;
            if (pw == 0 || ph == 0) continue;
            int rowBytes = (pw * bitsPerPixel + 7) / 8;
            var prev = new byte[rowBytes];
            for (int y = 0; y < ph; y++)
            {
                var row = new byte[rowBytes];
                for (int x = 0; x < pw; x++)
                    for (int c = 0; c < ch; c++)
                    {
                        ushort v = samples[((y0 + y * dy) * w + x0 + x * dx) * ch + c];
                        int index = x * ch + c;
                        if (depth == 16) { row[index * 2] = (byte)(v >> 8); row[index * 2 + 1] = (byte)v; }
                        else if (depth == 8) row[index] = (byte)v;
                        else
                        {
                            int perByte = 8 / depth, shift = 8 - depth * (index % perByte + 1);
                            row[index / perByte] |= (byte)(v << shift);
                        }
                    }
                int f = filterForRow(rowCounter++);
                raw.WriteByte((byte)f);
                for (int i = 0; i < rowBytes; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], cc = i >= bpp ? prev[i - bpp] : 0;
                    int pred = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, 4 => Paeth(a, b, cc), _ => 0 };
                    raw.WriteByte((byte)(row[i] - pred));
                }
                prev = row;
            }
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        var compressed = z.ToArray();

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = (byte)depth; ihdr[9] = (byte)type; ihdr[12] = (byte)(interlace ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        foreach (var (t, d) in extra ?? []) Chunk(png, t, d);
        if (palette is not null) Chunk(png, "PLTE", palette);
        if (trns is not null) Chunk(png, "tRNS", trns);
        int piece = Math.Max(1, (compressed.Length + idatPieces - 1) / idatPieces);
        for (int at = 0; at < compressed.Length; at += piece) Chunk(png, "IDAT", compressed.AsSpan(at, Math.Min(piece, compressed.Length - at)).ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
        s.Write(len);
        var td = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) td[i] = (byte)type[i];
        data.CopyTo(td, 4);
        s.Write(td);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32.Compute(td));
        s.Write(len);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    public static ushort[] RandomSamples(int count, int depth, int seed, int max = -1)
    {
        var rng = new Random(seed);
        int limit = max >= 0 ? max : (1 << depth) - 1;
        return Enumerable.Range(0, count).Select(_ => (ushort)rng.Next(limit + 1)).ToArray();
    }
}

public class ImageTests
{
    public static IEnumerable<object[]> AllFormats()
    {
        foreach (var (type, depths) in new (PngColorType, int[])[]
        {
            (PngColorType.Grayscale, [1, 2, 4, 8, 16]), (PngColorType.Rgb, [8, 16]), (PngColorType.Palette, [1, 2, 4, 8]),
            (PngColorType.GrayscaleAlpha, [8, 16]), (PngColorType.Rgba, [8, 16]),
        })
            foreach (var d in depths)
                foreach (var interlace in new[] { false, true })
                    yield return [type, d, interlace];
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void DecodesEveryColourTypeAndBitDepth(PngColorType type, int depth, bool interlace)
    {
        foreach (var (w, h) in new[] { (1, 1), (3, 5), (13, 9), (17, 16) })
        {
            int ch = type switch { PngColorType.Rgb => 3, PngColorType.GrayscaleAlpha => 2, PngColorType.Rgba => 4, _ => 1 };
            int entries = Math.Min(1 << depth, 7);
            byte[]? palette = type == PngColorType.Palette ? Enumerable.Range(0, entries * 3).Select(i => (byte)(i * 37 + 11)).ToArray() : null;
            var samples = TestPng.RandomSamples(w * h * ch, depth, seed: w * 100 + h + depth, max: type == PngColorType.Palette ? entries - 1 : -1);
            var bytes = TestPng.Encode(w, h, depth, type, samples, interlace, palette: palette);
            var img = Png.Decode(bytes, "test.png");
            Assert.Equal((w, h, depth, type, interlace), (img.Width, img.Height, img.BitDepth, img.ColorType, img.Interlaced));
            Assert.Equal(samples, img.Samples);

            var rgb = img.ToRgb();
            int max = (1 << depth) - 1;
            for (int p = 0; p < w * h; p++)
            {
                byte To8(ushort v) => depth == 16 ? (byte)(v >> 8) : (byte)(v * 255 / max);
                (byte, byte, byte) expected = type switch
                {
                    PngColorType.Palette => (palette![samples[p] * 3], palette[samples[p] * 3 + 1], palette[samples[p] * 3 + 2]),
                    PngColorType.Grayscale or PngColorType.GrayscaleAlpha => (To8(samples[p * ch]), To8(samples[p * ch]), To8(samples[p * ch])),
                    _ => (To8(samples[p * ch]), To8(samples[p * ch + 1]), To8(samples[p * ch + 2])),
                };
                Assert.Equal(expected, rgb[p % w, p / w]);
            }
        }
    }

    [Theory]
    [InlineData(0)] [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)]
    public void DecodesEachFilterType(int filter)
    {
        foreach (var (type, depth, ch) in new[] { (PngColorType.Rgb, 8, 3), (PngColorType.Rgba, 16, 4), (PngColorType.Grayscale, 2, 1), (PngColorType.GrayscaleAlpha, 8, 2) })
        {
            int w = 11, h = 7;
            var samples = TestPng.RandomSamples(w * h * ch, depth, seed: filter * 10 + depth);
            foreach (bool interlace in new[] { false, true })
            {
                var img = Png.Decode(TestPng.Encode(w, h, depth, type, samples, interlace, filterForRow: _ => filter), "filter.png");
                Assert.Equal(samples, img.Samples);
            }
        }
    }

    [Fact]
    public void SubBytePixelsScaleLikePil()
    {
        // 1-bit 0/1 → 0/255; 2-bit ×85; 4-bit ×17.
        foreach (var (depth, factor) in new[] { (1, 255), (2, 85), (4, 17) })
        {
            ushort[] s = [.. Enumerable.Range(0, 1 << depth).Select(i => (ushort)i)];
            var rgb = Png.Decode(TestPng.Encode(s.Length, 1, depth, PngColorType.Grayscale, s), "g.png").ToRgb();
            for (int i = 0; i < s.Length; i++) Assert.Equal((byte)(i * factor), rgb[i, 0].R);
        }
    }

    [Fact]
    public void SplitIdatAncillaryChunksAndTransparencyAreHandled()
    {
        int w = 9, h = 6;
        var samples = TestPng.RandomSamples(w * h * 3, 8, seed: 3);
        var bytes = TestPng.Encode(w, h, 8, PngColorType.Rgb, samples, idatPieces: 5, trns: [0, 1, 0, 2, 0, 3],
            extra: [("tEXt", "Comment\0hello"u8.ToArray()), ("gAMA", [0, 0, 0xB1, 0x8F])]);
        var img = Png.Decode(bytes, "split.png");
        Assert.Equal(samples, img.Samples);
        Assert.Equal(new ushort[] { 1, 2, 3 }, img.TransparentColor);

        var pal = Png.Decode(TestPng.Encode(2, 1, 8, PngColorType.Palette, [0, 1], palette: [1, 2, 3, 4, 5, 6], trns: [128]), "p.png");
        Assert.Equal(new byte[] { 128 }, pal.PaletteAlpha);
        Assert.Equal(((byte)4, (byte)5, (byte)6), pal.ToRgb()[1, 0]);
    }

    [Fact]
    public void ReadsTheSharedExamplePng()
    {
        var path = Path.Combine(SharedData.Model("vit-tiny-random"), "example.png");
        var img = Png.Read(path);
        Assert.Equal((48, 40, 8, PngColorType.Rgb), (img.Width, img.Height, img.BitDepth, img.ColorType));
        var rgb = RgbImage.Load(path);
        Assert.Equal(48 * 40 * 3, rgb.Pixels.Length);
    }

    // ---- hostile files ------------------------------------------------------------------------

    private static byte[] Valid() => TestPng.Encode(8, 8, 8, PngColorType.Rgb, TestPng.RandomSamples(8 * 8 * 3, 8, 1));

    private static void AssertRejected(byte[] bytes, params string[] fragments)
    {
        var e = Assert.Throws<ImageFormatException>(() => Png.Decode(bytes, "hostile.png"));
        Assert.StartsWith("hostile.png: ", e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    private static byte[] WithIhdr(int w, int h, int depth, int type, byte[] idatPayload, int interlace = 0)
    {
        var s = new MemoryStream();
        s.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = (byte)depth; ihdr[9] = (byte)type; ihdr[12] = (byte)interlace;
        TestPng.Chunk(s, "IHDR", ihdr);
        TestPng.Chunk(s, "IDAT", idatPayload);
        TestPng.Chunk(s, "IEND", []);
        return s.ToArray();
    }

    private static byte[] Zlib(byte[] raw)
    {
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(raw);
        return z.ToArray();
    }

    [Fact]
    public void TruncatedFilesAreRejectedAtEveryCut()
    {
        var good = Valid();
        Png.Decode(good, "ok.png");
        for (int cut = 0; cut < good.Length; cut++)
        {
            var e = Assert.Throws<ImageFormatException>(() => Png.Decode(good.AsSpan(0, cut), "cut.png"));
            Assert.StartsWith("cut.png: ", e.Message);
        }
    }

    [Fact]
    public void BadSignatureAndEmptyFile()
    {
        AssertRejected([], "too short");
        var b = Valid(); b[1] = (byte)'X';
        AssertRejected(b, "signature");
    }

    [Fact]
    public void CorruptCrcIsNamed()
    {
        var b = Valid();
        b[8 + 8 + 3] ^= 0x40; // a byte of IHDR's data (width)
        AssertRejected(b, "IHDR", "CRC");
    }

    [Fact]
    public void ChunkLengthBeyondTheFileIsRejected()
    {
        var b = Valid();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 0x7FFFFFF0); // IHDR's length
        AssertRejected(b, "IHDR", "declares");
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 0xFFFFFFFF);
        AssertRejected(b, "IHDR", "2^31");
    }

    [Fact]
    public void HugeDimensionsFailBeforeAllocating()
    {
        AssertRejected(WithIhdr(1_000_000, 1_000_000, 8, 6, Zlib([0])), "exceeds the limit", "MaxPixels");
        AssertRejected(WithIhdr(0, 10, 8, 2, Zlib([0])), "width is 0");
        AssertRejected(WithIhdr(int.MaxValue, 1, 8, 2, Zlib([0])), "exceeds");

        // Under the pixel limit but with almost no data: must fail on the data, without a gigabyte buffer.
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertRejected(WithIhdr(9000, 9000, 16, 6, Zlib(new byte[1000])), "inflates to 1000 bytes");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes for a 9000×9000 header with 1000 bytes of data");
    }

    [Fact]
    public void InvalidHeaderFieldsAreNamed()
    {
        AssertRejected(WithIhdr(4, 4, 16, 3, Zlib([0])), "bit depth 16", "colour type 3");
        AssertRejected(WithIhdr(4, 4, 4, 2, Zlib([0])), "bit depth 4");
        AssertRejected(WithIhdr(4, 4, 8, 5, Zlib([0])), "colour type 5");
        AssertRejected(WithIhdr(4, 4, 8, 2, Zlib([0]), interlace: 2), "interlace method 2");
        AssertRejected(WithIhdr(4, 4, 8, 3, Zlib(new byte[4 * 5])), "without a PLTE");
    }

    [Fact]
    public void BadImageDataIsNamed()
    {
        // 2×2 grey 8-bit: each row is a filter byte + 2 bytes.
        AssertRejected(WithIhdr(2, 2, 8, 0, Zlib([7, 1, 2, 0, 3, 4])), "filter type 7");
        AssertRejected(WithIhdr(2, 2, 8, 0, Zlib([0, 1, 2])), "inflates to 3 bytes", "needs 6");
        AssertRejected(WithIhdr(2, 2, 8, 0, [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00, 0x01]), "zlib");
        AssertRejected(WithIhdr(2, 2, 8, 0, []), "no IDAT");

        var s = new MemoryStream();
        s.Write(Valid().AsSpan(0, 8 + 25)); // signature + IHDR
        TestPng.Chunk(s, "ABCD", [1, 2, 3]);
        AssertRejected(s.ToArray(), "unknown critical chunk 'ABCD'");

        var palette = TestPng.Encode(2, 1, 8, PngColorType.Palette, [0, 5], palette: [1, 2, 3, 4, 5, 6]);
        AssertRejected(palette, "palette index 5");
    }

    [Fact]
    public void MissingFileAndNonPngAreClearErrors()
    {
        using var tmp = new TempDir();
        Assert.Throws<FileNotFoundException>(() => Png.Read(tmp.File("absent.png")));
        File.WriteAllBytes(tmp.File("x.png"), "GIF89a......"u8.ToArray());
        var e = Assert.Throws<ImageFormatException>(() => RgbImage.Load(tmp.File("x.png")));
        Assert.Contains("x.png", e.Message);
    }

    // ---- resizing and the ViT processor -----------------------------------------------------

    [Fact]
    public void ConstantImagesStayConstantUnderEveryFilter()
    {
        var px = new byte[23 * 17 * 3];
        for (int i = 0; i < px.Length; i += 3) { px[i] = 200; px[i + 1] = 7; px[i + 2] = 255; }
        var img = new RgbImage(23, 17, px);
        foreach (ResampleFilter f in Enum.GetValues<ResampleFilter>())
            foreach (var (w, h) in new[] { (8, 8), (40, 30), (23, 5), (1, 1) })
            {
                var r = Resample.Resize(img, w, h, f);
                for (int i = 0; i < r.Pixels.Length; i += 3)
                    Assert.Equal(((byte)200, (byte)7, (byte)255), (r.Pixels[i], r.Pixels[i + 1], r.Pixels[i + 2]));
            }
    }

    [Fact]
    public void BilinearCoefficientsAntialiasWhenShrinking()
    {
        // 48 → 32 (scale 1.5): support 1.5, so each output pixel reads up to 4 inputs; weights sum to 1.
        var (bounds, weights, k) = Resample.Coefficients(48, 32, 1.0, x => Math.Max(0, 1 - Math.Abs(x)));
        Assert.Equal(5, k);
        Assert.Equal((0, 2), (bounds[0], bounds[1]));          // centre 0.75: inputs 0, 1
        Assert.Equal(0.625, weights[0], 12);                      // tent(0.25/1.5) / (tent(0.25/1.5) + tent(0.75/1.5))
        for (int o = 0; o < 32; o++) Assert.Equal(1.0, weights.Skip(o * k).Take(bounds[2 * o + 1]).Sum(), 12);
        // Upscaling keeps the plain triangle (support 1).
        var (_, _, k2) = Resample.Coefficients(10, 20, 1.0, x => Math.Max(0, 1 - Math.Abs(x)));
        Assert.Equal(3, k2);
    }

    [Fact]
    public void VitPixelValuesMatchTransformersGolden()
    {
        var dir = SharedData.Model("vit-tiny-random");
        var processor = VitImageProcessor.FromPretrained(dir);
        Assert.Equal((32, 32, 2), (processor.Config.Height, processor.Config.Width, processor.Config.Resample));
        var pixels = processor.Preprocess(Path.Combine(dir, "example.png"));
        Assert.Equal(new[] { 1, 3, 32, 32 }, pixels.Shape);
        using var golden = new ForwardGolden("vit-tiny-random");
        ForwardGolden.AssertClose("vit pixel_values", golden.Cases[0].GetProperty("inputs").GetProperty("pixel_values"), pixels);
    }

    [Fact]
    public void PillowArithmeticIsOneLevelAwayFromTorchs()
    {
        // The two fixed-point variants agree to within one 8-bit level, and on this image they do differ:
        // the golden is only matched by the torchvision (transformers 5 default) arithmetic.
        var dir = SharedData.Model("vit-tiny-random");
        var image = RgbImage.Load(Path.Combine(dir, "example.png"));
        var torch = VitImageProcessor.FromPretrained(dir).Resize(image).Pixels;
        var pil = VitImageProcessor.FromPretrained(dir, ResampleArithmetic.Pillow).Resize(image).Pixels;
        int differ = 0;
        for (int i = 0; i < torch.Length; i++)
        {
            Assert.True(Math.Abs(torch[i] - pil[i]) <= 1, $"value {i}: {torch[i]} vs {pil[i]}");
            if (torch[i] != pil[i]) differ++;
        }
        Assert.Equal(512, differ);
    }

    [Fact]
    public void ProcessorRejectsBadConfigs()
    {
        Assert.Throws<ArgumentException>(() => new VitImageProcessor(new ImageProcessorConfig { Resample = 9 }));
        Assert.Throws<ArgumentException>(() => new VitImageProcessor(new ImageProcessorConfig { ImageStd = [0.5, 0, 0.5] }));
        Assert.Throws<ArgumentException>(() => new VitImageProcessor(new ImageProcessorConfig { ImageMean = [0.5] }));
    }
}

/// <summary>A small baseline JPEG encoder for tests, independent of the decoder: zig-zag order is
/// computed by walking the diagonals, the forward DCT is the textbook sum, and the Huffman tables
/// are made up (variable-length, canonical), so a decoder that only agrees with itself fails.</summary>
internal static class TestJpeg
{
    public static readonly int[] ZigZag = BuildZigZag();

    private static int[] BuildZigZag()
    {
        var order = new List<int>();
        for (int s = 0; s < 15; s++)
        {
            var diag = Enumerable.Range(0, 8).Where(r => s - r is >= 0 and < 8).Select(r => r * 8 + (s - r)).ToList(); // r = row
            if (s % 2 == 0) diag.Reverse(); // even diagonals run up-right (row decreasing)
            order.AddRange(diag);
        }
        return [.. order];
    }

    // DC: 12 categories; AC: EOB, ZRL and run/size 0..15/1..10 (162 symbols).
    private static readonly byte[] s_dcCounts = [0, 1, 3, 4, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] s_dcSymbols = [.. Enumerable.Range(0, 12).Select(i => (byte)i)];
    private static readonly byte[] s_acCounts = [0, 1, 0, 4, 0, 12, 0, 40, 55, 45, 5, 0, 0, 0, 0, 0];
    private static readonly byte[] s_acSymbols = [0x00, 0x01, 0x02, 0x11, 0x03, .. Enumerable.Range(0, 256).Select(i => (byte)i)
        .Where(b => (b & 15) is >= 1 and <= 10 && b is not (0x01 or 0x02 or 0x11 or 0x03)).Append((byte)0xF0)];

    private static Dictionary<int, (int Code, int Length)> Codes(byte[] counts, byte[] symbols)
    {
        var d = new Dictionary<int, (int, int)>();
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            for (int i = 0; i < counts[len - 1]; i++) d[symbols[k++]] = (code++, len);
            code <<= 1;
        }
        return d;
    }

    private sealed class Bits(Stream s)
    {
        private int _acc, _n;
        public void Put(int value, int length)
        {
            for (int i = length - 1; i >= 0; i--)
            {
                _acc = (_acc << 1) | ((value >> i) & 1);
                if (++_n == 8) { s.WriteByte((byte)_acc); if (_acc == 0xFF) s.WriteByte(0); _acc = 0; _n = 0; }
            }
        }
        public void Flush() { while (_n != 0) Put(1, 1); }
    }

    /// <summary>Encodes grey (channels 1) or RGB (channels 3) samples. sub = (h, v) luma sampling factors.</summary>
    public static byte[] Encode(int w, int h, byte[] px, int channels, int[]? quant = null, (int H, int V) sub = default, int restart = 0)
    {
        if (sub == default) sub = (1, 1);
        quant ??= Enumerable.Repeat(1, 64).ToArray();
        int nc = channels;
        var planes = new double[nc][];
        for (int c = 0; c < nc; c++) planes[c] = new double[w * h];
        for (int i = 0; i < w * h; i++)
        {
            if (nc == 1) { planes[0][i] = px[i]; continue; }
            double r = px[i * 3], g = px[i * 3 + 1], b = px[i * 3 + 2];
            planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b;
            planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
            planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
        }
        int hmax = nc == 1 ? 1 : sub.H, vmax = nc == 1 ? 1 : sub.V;
        int mcusX = (w + 8 * hmax - 1) / (8 * hmax), mcusY = (h + 8 * vmax - 1) / (8 * vmax);
        var dcCodes = Codes(s_dcCounts, s_dcSymbols);
        var acCodes = Codes(s_acCounts, s_acSymbols);

        var o = new MemoryStream();
        void Marker(int m, byte[] body)
        {
            o.WriteByte(0xFF); o.WriteByte((byte)m);
            o.WriteByte((byte)((body.Length + 2) >> 8)); o.WriteByte((byte)(body.Length + 2));
            o.Write(body);
        }
        o.WriteByte(0xFF); o.WriteByte(0xD8);
        Marker(0xDB, [0, .. Enumerable.Range(0, 64).Select(k => (byte)quant[ZigZag[k]])]);
        var sof = new List<byte> { 8, (byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w, (byte)nc };
        for (int c = 0; c < nc; c++) sof.AddRange([(byte)(c + 1), (byte)(c == 0 ? (hmax << 4) | vmax : 0x11), 0]);
        Marker(0xC0, [.. sof]);
        Marker(0xC4, [0x00, .. s_dcCounts, .. s_dcSymbols]);
        Marker(0xC4, [0x10, .. s_acCounts, .. s_acSymbols]);
        if (restart > 0) Marker(0xDD, [(byte)(restart >> 8), (byte)restart]);
        var sos = new List<byte> { (byte)nc };
        for (int c = 0; c < nc; c++) sos.AddRange([(byte)(c + 1), 0x00]);
        sos.AddRange([0, 63, 0]);
        Marker(0xDA, [.. sos]);

        var bits = new Bits(o);
        var pred = new int[nc];
        int done = 0, rst = 0;
        for (int my = 0; my < mcusY; my++)
            for (int mx = 0; mx < mcusX; mx++)
            {
                if (restart > 0 && done > 0 && done % restart == 0)
                {
                    bits.Flush();
                    o.WriteByte(0xFF); o.WriteByte((byte)(0xD0 + rst)); rst = (rst + 1) & 7;
                    Array.Clear(pred);
                }
                for (int c = 0; c < nc; c++)
                {
                    int bh = c == 0 ? hmax : 1, bv = c == 0 ? vmax : 1;
                    int fx = c == 0 ? 1 : hmax, fy = c == 0 ? 1 : vmax;   // pixels per sample
                    for (int by = 0; by < bv; by++)
                        for (int bx = 0; bx < bh; bx++)
                        {
                            var block = new double[64];
                            for (int y = 0; y < 8; y++)
                                for (int x = 0; x < 8; x++)
                                {
                                    // Sample = mean of the fx×fy pixels it covers (edges replicated).
                                    int sx = ((mx * bh + bx) * 8 + x) * fx, sy = ((my * bv + by) * 8 + y) * fy;
                                    double sum = 0;
                                    for (int dy = 0; dy < fy; dy++)
                                        for (int dx = 0; dx < fx; dx++)
                                            sum += planes[c][Math.Min(sy + dy, h - 1) * w + Math.Min(sx + dx, w - 1)];
                                    block[y * 8 + x] = sum / (fx * fy) - 128;
                                }
                            var coef = new int[64];
                            for (int v = 0; v < 8; v++)
                                for (int u = 0; u < 8; u++)
                                {
                                    double s = 0;
                                    for (int y = 0; y < 8; y++)
                                        for (int x = 0; x < 8; x++)
                                            s += block[y * 8 + x] * Math.Cos((2 * x + 1) * u * Math.PI / 16) * Math.Cos((2 * y + 1) * v * Math.PI / 16);
                                    s *= 0.25 * (u == 0 ? 1 / Math.Sqrt(2) : 1) * (v == 0 ? 1 / Math.Sqrt(2) : 1);
                                    coef[v * 8 + u] = (int)Math.Round(s / quant[v * 8 + u], MidpointRounding.AwayFromZero);
                                }
                            int diff = coef[0] - pred[c]; pred[c] = coef[0];
                            Emit(bits, dcCodes, diff, 0, dc: true);
                            int run = 0;
                            for (int k = 1; k < 64; k++)
                            {
                                int z = coef[ZigZag[k]];
                                if (z == 0) { run++; continue; }
                                while (run > 15) { var (zc, zl) = acCodes[0xF0]; bits.Put(zc, zl); run -= 16; }
                                Emit(bits, acCodes, z, run, dc: false);
                                run = 0;
                            }
                            if (run > 0) { var (ec, el) = acCodes[0x00]; bits.Put(ec, el); }
                        }
                }
                done++;
            }
        bits.Flush();
        o.WriteByte(0xFF); o.WriteByte(0xD9);
        return o.ToArray();
    }

    private static void Emit(Bits bits, Dictionary<int, (int Code, int Length)> codes, int value, int run, bool dc)
    {
        int mag = Math.Abs(value), size = 0;
        while (mag >> size != 0) size++;
        var (code, len) = codes[dc ? size : (run << 4) | size];
        bits.Put(code, len);
        if (size > 0) bits.Put(value > 0 ? value : value + (1 << size) - 1, size);
    }
}

public class JpegImageTests
{
    private static byte[] Smooth(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                px[i] = (byte)(40 + 150 * x / w); px[i + 1] = (byte)(200 - 120 * y / h); px[i + 2] = (byte)(90 + 60 * Math.Sin(x * 0.2 + y * 0.1));
            }
        return px;
    }

    [Fact]
    public void TestZigZagIsTheStandardOne()
    {
        Assert.Equal(new[] { 0, 1, 8, 16, 9, 2, 3, 10, 17, 24 }, TestJpeg.ZigZag.Take(10));
        Assert.Equal(63, TestJpeg.ZigZag[63]);
    }

    [Fact]
    public void FlatGreyAndColourDecodeExactly()
    {
        var grey = Enumerable.Repeat((byte)100, 16 * 16).ToArray();
        var g = Jpeg.Decode(TestJpeg.Encode(16, 16, grey, 1), "grey.jpg");
        Assert.All(g.Pixels, v => Assert.Equal(100, v));
        var rgb = Enumerable.Range(0, 9 * 7).SelectMany(_ => new byte[] { 100, 100, 100 }).ToArray();
        var c = Jpeg.Decode(TestJpeg.Encode(9, 7, rgb, 3), "flat.jpg");
        Assert.All(c.Pixels, v => Assert.Equal(100, v));
    }

    [Fact]
    public void AHorizontalCosineComesBackHorizontal()
    {
        // One horizontal DCT basis function: if the decoder's zig-zag table were transposed it would
        // come back as vertical stripes.
        var px = new byte[8 * 8];
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) px[y * 8 + x] = (byte)Math.Round(128 + 40 * Math.Cos((2 * x + 1) * Math.PI / 16));
        var img = Jpeg.Decode(TestJpeg.Encode(8, 8, px, 1), "cos.jpg");
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                Assert.True(Math.Abs(img[x, y].R - px[y * 8 + x]) <= 1, $"({x},{y}): {img[x, y].R} vs {px[y * 8 + x]}");
    }

    [Theory]
    [InlineData(1, 1, 0)] [InlineData(2, 2, 0)] [InlineData(2, 1, 0)] [InlineData(2, 2, 2)] [InlineData(1, 1, 5)]
    public void SmoothImagesRoundTripAtEverySampling(int hs, int vs, int restart)
    {
        int w = 37, h = 29;
        var px = Smooth(w, h);
        var quant = Enumerable.Range(0, 64).Select(i => 1 + (i % 8 + i / 8) / 2).ToArray();
        var bytes = TestJpeg.Encode(w, h, px, 3, quant, (hs, vs), restart);
        var img = Jpeg.Decode(bytes, "smooth.jpg");
        Assert.Equal((w, h), (img.Width, img.Height));
        double sum = 0; int worst = 0;
        for (int i = 0; i < px.Length; i++) { int d = Math.Abs(px[i] - img.Pixels[i]); sum += d; worst = Math.Max(worst, d); }
        Assert.True(worst <= 12 && sum / px.Length < 2.5, $"{hs}x{vs}: worst {worst}, mean {sum / px.Length:F2}");
    }

    [Fact]
    public void LoadsJpegThroughRgbImage()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("a.jpg"), TestJpeg.Encode(10, 6, Smooth(10, 6), 3));
        var img = RgbImage.Load(tmp.File("a.jpg"));
        Assert.Equal((10, 6), (img.Width, img.Height));
    }

    [Fact]
    public void HostileJpegsAreRejectedClearly()
    {
        var good = TestJpeg.Encode(20, 12, Smooth(20, 12), 3, sub: (2, 2), restart: 2);
        Jpeg.Decode(good, "ok.jpg");
        for (int cut = 0; cut < good.Length; cut++)
        {
            var e = Assert.Throws<ImageFormatException>(() => Jpeg.Decode(good.AsSpan(0, cut), "cut.jpg"));
            Assert.StartsWith("cut.jpg: ", e.Message);
        }
        // SOF0 → SOF2 (progressive).
        var prog = (byte[])good.Clone();
        int sof = FindMarker(prog, 0xC0);
        prog[sof + 1] = 0xC2;
        Assert.Contains("progressive", Assert.Throws<ImageFormatException>(() => Jpeg.Decode(prog, "p.jpg")).Message);
        // Huge declared size.
        var huge = (byte[])good.Clone();
        huge[sof + 5] = 0xFF; huge[sof + 6] = 0xFF; huge[sof + 7] = 0xFF; huge[sof + 8] = 0xFF;
        Assert.Contains("exceeds the limit", Assert.Throws<ImageFormatException>(() => Jpeg.Decode(huge, "h.jpg", new PngReadOptions { MaxPixels = 1_000_000 })).Message);
        // A segment length running past the end.
        var longSeg = (byte[])good.Clone();
        longSeg[sof + 2] = 0x7F;
        Assert.Contains("declares", Assert.Throws<ImageFormatException>(() => Jpeg.Decode(longSeg, "l.jpg")).Message);
        Assert.Contains("no SOI", Assert.Throws<ImageFormatException>(() => Jpeg.Decode([1, 2, 3], "x.jpg")).Message);
        // Under the pixel limit but with almost no data: rejected without allocating the planes.
        var bomb = (byte[])good.Clone();
        bomb[sof + 5] = 0x23; bomb[sof + 6] = 0x28; bomb[sof + 7] = 0x23; bomb[sof + 8] = 0x28; // 9000×9000
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated", Assert.Throws<ImageFormatException>(() => Jpeg.Decode(bomb, "b.jpg")).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    private static int FindMarker(byte[] b, byte m)
    {
        for (int i = 0; i + 1 < b.Length; i++) if (b[i] == 0xFF && b[i + 1] == m) return i;
        throw new InvalidOperationException("marker not found");
    }
}
