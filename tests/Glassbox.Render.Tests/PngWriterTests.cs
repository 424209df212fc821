using Glassbox.Models.Images;

namespace Glassbox.Render.Tests;

public class PngWriterTests
{
    [Theory]
    [InlineData(PngPixelFormat.Gray8, 1, 1)]
    [InlineData(PngPixelFormat.Rgb8, 17, 5)]
    [InlineData(PngPixelFormat.Rgba8, 33, 21)]
    [InlineData(PngPixelFormat.Rgb8, 256, 3)]
    public void RandomPixelsRoundTripThroughTheReader(PngPixelFormat format, int width, int height)
    {
        int channels = (int)format;
        var pixels = new byte[width * height * channels];
        new Random(width * 31 + height).NextBytes(pixels);
        // Smooth rows too, so that every filter type gets chosen somewhere.
        for (int i = 0; i < pixels.Length / 2; i++) pixels[i] = (byte)(i / channels % 251);

        var png = PngWriter.Encode(width, height, pixels, format);
        var decoded = Png.Decode(png);

        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        Assert.Equal(8, decoded.BitDepth);
        Assert.Equal(channels, decoded.Channels);
        Assert.Equal(pixels.Select(b => (ushort)b).ToArray(), decoded.Samples);
    }

    [Fact]
    public void RgbImageRoundTripsAndChunksCarryValidCrcs()
    {
        var pixels = new byte[40 * 48 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7);
        var image = new RgbImage(40, 48, pixels);
        var png = PngWriter.Encode(image);

        Assert.Equal(pixels, Png.Decode(png).ToRgb().Pixels);

        // Walk the chunks: IHDR, IDAT, IEND, each CRC over type + data.
        int at = 8;
        var types = new List<string>();
        while (at < png.Length)
        {
            int len = (png[at] << 24) | (png[at + 1] << 16) | (png[at + 2] << 8) | png[at + 3];
            types.Add(System.Text.Encoding.ASCII.GetString(png, at + 4, 4));
            uint crc = (uint)((png[at + 8 + len] << 24) | (png[at + 9 + len] << 16) | (png[at + 10 + len] << 8) | png[at + 11 + len]);
            Assert.Equal(Crc32.Compute(png.AsSpan(at + 4, len + 4)), crc);
            at += 12 + len;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], types);
    }

    [Fact]
    public void WrongBufferSizeIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => PngWriter.Encode(4, 4, new byte[10], PngPixelFormat.Rgb8));
        Assert.Contains("48 bytes", e.Message);
    }

    [Fact]
    public void AtomicWriteReplacesWholeFileAndLeavesNoTemporaries()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-render-").FullName;
        try
        {
            string path = Path.Combine(dir, "view.png");
            File.WriteAllText(path, "old");
            var img = new RgbaImage(3, 2);
            PngWriter.Write(path, img);
            Assert.Equal(2, Png.Read(path).Height);
            Assert.Single(Directory.GetFiles(dir));

            Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(Path.Combine(dir, "missing", "x.html"), "x"));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
