// PNG decoder (ISO/IEC 15948, W3C PNG 2nd ed.): every colour type (grey, RGB, palette, grey +
// alpha, RGBA) at every legal bit depth (1/2/4/8/16), Adam7 interlacing, all five row filters,
// zlib through System.IO.Compression, CRC of every chunk checked. Files come from users, so
// every length is validated before it is trusted: the image size is capped (MaxPixels, as PIL's
// decompression-bomb limit) before anything is allocated, inflation stops at exactly the number
// of bytes the header implies, and every failure is a PngFormatException naming the file and
// the problem.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Glassbox.Models.Images;

public sealed class ImageFormatException(string message, Exception? inner = null) : Exception(message, inner);

public enum PngColorType : byte { Grayscale = 0, Rgb = 2, Palette = 3, GrayscaleAlpha = 4, Rgba = 6 }

public sealed record PngReadOptions
{
    /// <summary>Largest width × height accepted (PIL's MAX_IMAGE_PIXELS is 89,478,485).</summary>
    public long MaxPixels { get; init; } = 89_478_485;

    /// <summary>Largest file read by <see cref="Png.Read(string, PngReadOptions?)"/>.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;
}

/// <summary>A decoded PNG at its stored precision. Samples are row-major and interleaved
/// (channels per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; palette images hold indices).</summary>
public sealed class PngImage
{
    internal PngImage(int width, int height, int bitDepth, PngColorType colorType, bool interlaced, ushort[] samples, byte[]? palette, byte[]? paletteAlpha, ushort[]? transparentColor)
    {
        Width = width; Height = height; BitDepth = bitDepth; ColorType = colorType; Interlaced = interlaced;
        Samples = samples; Palette = palette; PaletteAlpha = paletteAlpha; TransparentColor = transparentColor;
    }

    public int Width { get; }
    public int Height { get; }
    public int BitDepth { get; }
    public PngColorType ColorType { get; }
    public bool Interlaced { get; }
    public int Channels => Png.ChannelsOf(ColorType);
    public ushort[] Samples { get; }
    /// <summary>PLTE entries as RGB triplets (palette images; optional suggestion for RGB ones).</summary>
    public byte[]? Palette { get; }
    /// <summary>tRNS alpha per palette entry (entries beyond it are opaque).</summary>
    public byte[]? PaletteAlpha { get; }
    /// <summary>tRNS colour key of grey (1 value) or RGB (3 values) images.</summary>
    public ushort[]? TransparentColor { get; }

    /// <summary>8-bit RGB as PIL's convert("RGB") gives it: grey replicated (sub-byte depths scaled to
    /// 0..255), palette looked up, alpha dropped, 16-bit samples reduced to their high byte.</summary>
    public RgbImage ToRgb()
    {
        var rgb = new byte[checked(Width * Height * 3)];
        int ch = Channels, max = (1 << BitDepth) - 1;
        for (int i = 0, n = Width * Height; i < n; i++)
        {
            int s = i * ch;
            byte r, g, b;
            switch (ColorType)
            {
                case PngColorType.Palette:
                {
                    int idx = Samples[s];
                    r = Palette![idx * 3]; g = Palette[idx * 3 + 1]; b = Palette[idx * 3 + 2];
                    break;
                }
                case PngColorType.Grayscale:
                case PngColorType.GrayscaleAlpha:
                    r = g = b = To8(Samples[s]);
                    break;
                default:
                    r = To8(Samples[s]); g = To8(Samples[s + 1]); b = To8(Samples[s + 2]);
                    break;
            }
            rgb[i * 3] = r; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = b;
        }
        return new RgbImage(Width, Height, rgb);

        byte To8(ushort v) => BitDepth switch
        {
            16 => (byte)(v >> 8),
            8 => (byte)v,
            _ => (byte)(v * 255 / max),
        };
    }
}

public static class Png
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static PngImage Read(string path, PngReadOptions? options = null)
    {
        options ??= new PngReadOptions();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found.", path);
        byte[] bytes;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > options.MaxFileBytes)
                throw new ImageFormatException($"{path}: {length} bytes is more than the {options.MaxFileBytes}-byte limit for an image file (PngReadOptions.MaxFileBytes).");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFormatException($"{path}: cannot read the file ({e.Message}).", e);
        }
        return Decode(bytes, path, options);
    }

    internal static int ChannelsOf(PngColorType t) => t switch
    {
        PngColorType.Grayscale => 1,
        PngColorType.Rgb => 3,
        PngColorType.Palette => 1,
        PngColorType.GrayscaleAlpha => 2,
        PngColorType.Rgba => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Decodes a PNG held in memory; <paramref name="name"/> names it in errors.</summary>
    public static PngImage Decode(ReadOnlySpan<byte> data, string name = "PNG", PngReadOptions? options = null)
    {
        options ??= new PngReadOptions();
        if (!IsPng(data))
            throw Fail(name, data.Length < 8 ? $"only {data.Length} bytes; too short to be a PNG" : "not a PNG (bad signature)");

        int pos = 8;
        bool haveHeader = false, haveEnd = false;
        int width = 0, height = 0, depth = 0;
        PngColorType type = 0;
        bool interlaced = false;
        byte[]? palette = null, paletteAlpha = null;
        ushort[]? key = null;
        var idat = new MemoryStream();
        bool idatDone = false;
        int chunkIndex = 0;

        while (!haveEnd)
        {
            if (data.Length - pos < 12)
                throw Fail(name, pos == data.Length ? "truncated: the file ends before the IEND chunk" : $"truncated: {data.Length - pos} stray bytes at offset {pos} where a chunk header was expected");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var typeBytes = data.Slice(pos + 4, 4);
            string ctype = ChunkName(typeBytes);
            if (len > int.MaxValue)
                throw Fail(name, $"chunk '{ctype}' at offset {pos} declares {len} bytes (more than 2^31 - 1)");
            if (len > data.Length - pos - 12)
                throw Fail(name, $"truncated: chunk '{ctype}' at offset {pos} declares {len} bytes but only {Math.Max(0, data.Length - pos - 12)} remain");
            foreach (var c in typeBytes)
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                    throw Fail(name, $"chunk at offset {pos} has an invalid type {Convert.ToHexString(typeBytes)}");
            var body = data.Slice(pos + 8, (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)len)..]);
            uint actual = Crc32.Update(Crc32.Update(0xFFFFFFFFu, typeBytes), body) ^ 0xFFFFFFFFu;
            if (crc != actual)
                throw Fail(name, $"chunk '{ctype}' at offset {pos} has CRC {crc:X8}, computed {actual:X8} (corrupt file)");
            pos += 12 + (int)len;

            if (chunkIndex++ == 0 && ctype != "IHDR") throw Fail(name, $"the first chunk is '{ctype}', not IHDR");
            switch (ctype)
            {
                case "IHDR":
                    if (haveHeader) throw Fail(name, "more than one IHDR chunk");
                    if (len != 13) throw Fail(name, $"IHDR has {len} bytes, not 13");
                    width = ReadDimension(body, 0, "width", name);
                    height = ReadDimension(body, 4, "height", name);
                    depth = body[8];
                    type = (PngColorType)body[9];
                    ValidateHeader(name, depth, body[9], body[10], body[11], body[12]);
                    interlaced = body[12] == 1;
                    if ((long)width * height > options.MaxPixels)
                        throw Fail(name, $"{width}×{height} = {(long)width * height} pixels exceeds the limit of {options.MaxPixels} (PngReadOptions.MaxPixels)");
                    haveHeader = true;
                    break;
                case "PLTE":
                    if (idat.Length > 0) throw Fail(name, "PLTE after image data");
                    if (palette is not null) throw Fail(name, "more than one PLTE chunk");
                    if (len == 0 || len % 3 != 0 || len / 3 > 256) throw Fail(name, $"PLTE has {len} bytes; it must hold 1..256 RGB entries");
                    if (type is PngColorType.Grayscale or PngColorType.GrayscaleAlpha) throw Fail(name, "PLTE in a greyscale image");
                    if (type == PngColorType.Palette && len / 3 > (1 << depth)) throw Fail(name, $"PLTE has {len / 3} entries, more than {1 << depth} for bit depth {depth}");
                    palette = body.ToArray();
                    break;
                case "tRNS":
                    if (idat.Length > 0) throw Fail(name, "tRNS after image data");
                    switch (type)
                    {
                        case PngColorType.Palette:
                            if (palette is null) throw Fail(name, "tRNS before PLTE");
                            if (len > palette.Length / 3) throw Fail(name, $"tRNS has {len} entries but the palette only {palette.Length / 3}");
                            paletteAlpha = body.ToArray();
                            break;
                        case PngColorType.Grayscale:
                            if (len != 2) throw Fail(name, $"tRNS of a greyscale image has {len} bytes, not 2");
                            key = [BinaryPrimitives.ReadUInt16BigEndian(body)];
                            break;
                        case PngColorType.Rgb:
                            if (len != 6) throw Fail(name, $"tRNS of an RGB image has {len} bytes, not 6");
                            key = [BinaryPrimitives.ReadUInt16BigEndian(body), BinaryPrimitives.ReadUInt16BigEndian(body[2..]), BinaryPrimitives.ReadUInt16BigEndian(body[4..])];
                            break;
                        default:
                            throw Fail(name, "tRNS in an image that already has an alpha channel");
                    }
                    break;
                case "IDAT":
                    if (idatDone) throw Fail(name, "IDAT chunks are not consecutive");
                    idat.Write(body);
                    break;
                case "IEND":
                    haveEnd = true;
                    break;
                default:
                    if (char.IsUpper(ctype[0])) throw Fail(name, $"unknown critical chunk '{ctype}'");
                    break; // ancillary chunks (text, gamma, ...) do not change the pixels we report
            }
            if (ctype != "IDAT" && idat.Length > 0) idatDone = true;
        }

        if (type == PngColorType.Palette && palette is null) throw Fail(name, "a palette image without a PLTE chunk");
        if (idat.Length == 0) throw Fail(name, "no IDAT chunk (no image data)");

        int channels = ChannelsOf(type);
        int bitsPerPixel = channels * depth;
        Pass[] passes = interlaced ? Adam7 : [new Pass(0, 0, 1, 1)];
        long rawLength = 0;
        foreach (var p in passes)
        {
            var (pw, ph) = p.Size(width, height);
            if (pw == 0 || ph == 0) continue;
            rawLength += ph * (1 + ((long)pw * bitsPerPixel + 7) / 8);
        }
        if (rawLength > Array.MaxLength)
            throw Fail(name, $"{width}×{height} at {bitsPerPixel} bits per pixel needs {rawLength} bytes of image data, more than one array holds");

        // Inflate into a buffer that grows with the data actually present, so a small file that
        // claims a huge image fails before the full-size buffers are allocated.
        var raw = new byte[Math.Min(rawLength, 1 << 16)];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int got = 0;
            while (true)
            {
                if (got == raw.Length)
                {
                    if (raw.Length == rawLength) break;
                    Array.Resize(ref raw, (int)Math.Min(rawLength, 2L * raw.Length));
                }
                int n = z.Read(raw, got, raw.Length - got);
                if (n == 0) break;
                got += n;
            }
            if (got < rawLength) throw Fail(name, $"the image data inflates to {got} bytes but {width}×{height} needs {rawLength} (truncated or corrupt IDAT)");
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException($"{name}: corrupt zlib stream in IDAT ({e.Message})", e);
        }

        var samples = new ushort[(long)width * height * channels];
        int bpp = Math.Max(1, bitsPerPixel / 8);
        int at = 0;
        foreach (var p in passes)
        {
            var (pw, ph) = p.Size(width, height);
            if (pw == 0 || ph == 0) continue;
            int rowBytes = (int)(((long)pw * bitsPerPixel + 7) / 8);
            var prev = new byte[rowBytes];
            var cur = new byte[rowBytes];
            for (int y = 0; y < ph; y++)
            {
                byte filter = raw[at];
                raw.AsSpan(at + 1, rowBytes).CopyTo(cur);
                at += 1 + rowBytes;
                Unfilter(filter, cur, prev, bpp, name, p.Y0 + y * p.DY);
                int outY = p.Y0 + y * p.DY;
                for (int x = 0; x < pw; x++)
                {
                    int outX = p.X0 + x * p.DX;
                    int dst = (outY * width + outX) * channels;
                    for (int c = 0; c < channels; c++)
                        samples[dst + c] = ReadSample(cur, x * channels + c, depth);
                }
                (prev, cur) = (cur, prev);
            }
        }

        if (type == PngColorType.Palette)
        {
            int entries = palette!.Length / 3;
            foreach (var s in samples)
                if (s >= entries) throw Fail(name, $"pixel uses palette index {s} but PLTE has only {entries} entries");
        }
        return new PngImage(width, height, depth, type, interlaced, samples, palette, paletteAlpha, key);
    }

    private static int ReadDimension(ReadOnlySpan<byte> body, int offset, string what, string name)
    {
        uint v = BinaryPrimitives.ReadUInt32BigEndian(body[offset..]);
        if (v == 0 || v > int.MaxValue) throw Fail(name, $"IHDR {what} is {v}; it must be 1..2^31 - 1");
        return (int)v;
    }

    private static void ValidateHeader(string name, int depth, byte colorType, byte compression, byte filter, byte interlace)
    {
        int[] allowed = colorType switch
        {
            0 => [1, 2, 4, 8, 16],
            2 or 4 or 6 => [8, 16],
            3 => [1, 2, 4, 8],
            _ => throw Fail(name, $"IHDR colour type {colorType} is not one of 0, 2, 3, 4, 6"),
        };
        if (Array.IndexOf(allowed, depth) < 0)
            throw Fail(name, $"IHDR bit depth {depth} is not allowed for colour type {colorType} (allowed: {string.Join(", ", allowed)})");
        if (compression != 0) throw Fail(name, $"IHDR compression method {compression} is unknown (only 0, deflate)");
        if (filter != 0) throw Fail(name, $"IHDR filter method {filter} is unknown (only 0)");
        if (interlace > 1) throw Fail(name, $"IHDR interlace method {interlace} is unknown (0 none, 1 Adam7)");
    }

    private static ushort ReadSample(byte[] row, int index, int depth)
    {
        switch (depth)
        {
            case 8: return row[index];
            case 16: return (ushort)((row[index * 2] << 8) | row[index * 2 + 1]);
            default:
            {
                int perByte = 8 / depth;
                int b = row[index / perByte];
                int shift = 8 - depth * (index % perByte + 1);
                return (ushort)((b >> shift) & ((1 << depth) - 1));
            }
        }
    }

    /// <summary>Reverses one row's filter in place; prev is the previous unfiltered row of the same pass (zeros for the first).</summary>
    private static void Unfilter(byte filter, byte[] cur, byte[] prev, int bpp, string name, int row)
    {
        int n = cur.Length;
        switch (filter)
        {
            case 0: break;
            case 1: // Sub
                for (int i = bpp; i < n; i++) cur[i] += cur[i - bpp];
                break;
            case 2: // Up
                for (int i = 0; i < n; i++) cur[i] += prev[i];
                break;
            case 3: // Average
                for (int i = 0; i < n; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                break;
            case 4: // Paeth
                for (int i = 0; i < n; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    cur[i] += (byte)Paeth(a, b, c);
                }
                break;
            default:
                throw Fail(name, $"row {row} uses filter type {filter}; only 0..4 exist");
        }
    }

    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    internal readonly record struct Pass(int X0, int Y0, int DX, int DY)
    {
        public (int W, int H) Size(int width, int height) =>
            (width > X0 ? (width - X0 + DX - 1) / DX : 0, height > Y0 ? (height - Y0 + DY - 1) / DY : 0);
    }

    internal static readonly Pass[] Adam7 =
    [
        new(0, 0, 8, 8), new(4, 0, 8, 8), new(0, 4, 4, 8), new(2, 0, 4, 4), new(0, 2, 2, 4), new(1, 0, 2, 2), new(0, 1, 1, 2),
    ];

    private static string ChunkName(ReadOnlySpan<byte> t)
    {
        Span<char> c = stackalloc char[4];
        for (int i = 0; i < 4; i++) c[i] = t[i] is >= 32 and < 127 ? (char)t[i] : '?';
        return new string(c);
    }

    private static ImageFormatException Fail(string name, string problem) => new($"{name}: {problem}.");
}

/// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it.</summary>
public static class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>Running update; start with 0xFFFFFFFF and xor the result with 0xFFFFFFFF.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}
