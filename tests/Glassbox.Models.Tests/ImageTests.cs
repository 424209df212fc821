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
