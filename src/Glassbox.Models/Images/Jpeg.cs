// Baseline JPEG decoder (ITU T.81 sequential DCT, Huffman, 8-bit): greyscale and YCbCr at any
// sampling factors (4:4:4, 4:2:2, 4:2:0, ...), interleaved and single-component scans, restart
// intervals. Chroma is upsampled with libjpeg's "fancy" triangle filter for h2v1/h2v2 (what PIL
// uses by default) and replicated otherwise; YCbCr → RGB uses the JFIF equations. Progressive,
// arithmetic-coded, 12-bit and CMYK files are refused with a clear message. Like the PNG reader,
// every length is checked before it is trusted and the image size is capped before allocation.
using System.Buffers.Binary;

namespace Glassbox.Models.Images;

public static class Jpeg
{
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>Natural (row-major) index of each zig-zag position.</summary>
    private static readonly byte[] s_zigzag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    private static readonly double[] s_idct = BuildIdct();

    private static double[] BuildIdct()
    {
        // s_idct[x * 8 + u] = C(u)/2 · cos((2x + 1)uπ/16)
        var t = new double[64];
        for (int x = 0; x < 8; x++)
            for (int u = 0; u < 8; u++)
                t[x * 8 + u] = (u == 0 ? 1 / Math.Sqrt(2) : 1.0) / 2 * Math.Cos((2 * x + 1) * u * Math.PI / 16);
        return t;
    }

    private sealed class Huffman
    {
        public readonly int[] MaxCode = new int[18];
        public readonly int[] ValPtr = new int[17];
        public readonly int[] MinCode = new int[17];
        public readonly byte[] Values;

        public Huffman(ReadOnlySpan<byte> counts, byte[] values, string name)
        {
            Values = values;
            int code = 0, k = 0;
            for (int len = 1; len <= 16; len++)
            {
                int n = counts[len - 1];
                ValPtr[len] = k;
                MinCode[len] = code;
                code += n;
                k += n;
                if (n > 0 && code > (1 << len)) throw new ImageFormatException($"{name}: a Huffman table has more codes of length {len} than fit.");
                MaxCode[len] = n > 0 ? code - 1 : -1;
                code <<= 1;
            }
            MaxCode[17] = int.MaxValue;
        }
    }

    private sealed class Component
    {
        public int Id, H, V, Tq, Td, Ta;
        public int BlocksW, BlocksH;     // blocks covering the padded component plane
        public int Width, Height;        // this component's own size (ceil(image × H / Hmax))
        public byte[] Plane = [];        // BlocksW·8 × BlocksH·8 samples
        public int Pred;
    }

    public static RgbImage Read(string path, PngReadOptions? options = null)
    {
        options ??= new PngReadOptions();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found.", path);
        long length = new FileInfo(path).Length;
        if (length > options.MaxFileBytes)
            throw new ImageFormatException($"{path}: {length} bytes is more than the {options.MaxFileBytes}-byte limit for an image file.");
        return Decode(File.ReadAllBytes(path), path, options);
    }

    public static RgbImage Decode(ReadOnlySpan<byte> data, string name = "JPEG", PngReadOptions? options = null)
    {
        options ??= new PngReadOptions();
        if (data.Length < 2 || data[0] != 0xFF || data[1] != 0xD8) throw Fail(name, "not a JPEG (no SOI marker)");
        var qt = new ushort[4][];
        var dc = new Huffman?[4];
        var ac = new Huffman?[4];
        Component[]? comps = null;
        int width = 0, height = 0, hmax = 1, vmax = 1, restart = 0;
        bool adobeRgb = false, sawFrame = false, sawScan = false;
        int pos = 2;

        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            if (pos >= data.Length) throw Fail(name, sawScan ? "truncated: no EOI marker after the image data" : "truncated before the image data");
            if (data[pos] != 0xFF) throw Fail(name, $"expected a marker at offset {pos}, found 0x{data[pos]:X2}");
            while (pos < data.Length && data[pos] == 0xFF) pos++;
            if (pos >= data.Length) throw Fail(name, "truncated inside a marker");
            byte marker = data[pos++];
            if (marker == 0xD9) break; // EOI
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // stray RSTn / TEM carry no length
            if (data.Length - pos < 2) throw Fail(name, $"truncated: marker 0xFF{marker:X2} at offset {pos - 2} has no length");
            int len = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            if (len < 2 || len > data.Length - pos) throw Fail(name, $"truncated: segment 0xFF{marker:X2} at offset {pos - 2} declares {len} bytes but {data.Length - pos} remain");
            var seg = data.Slice(pos + 2, len - 2);
            pos += len;

            switch (marker)
            {
                case 0xDB: // DQT
                    for (int p = 0; p < seg.Length;)
                    {
                        int pq = seg[p] >> 4, tq = seg[p] & 15;
                        if (tq > 3 || pq > 1) throw Fail(name, $"DQT table {tq} with precision {pq} is invalid");
                        int size = 64 * (pq + 1);
                        if (seg.Length - p - 1 < size) throw Fail(name, "DQT segment is too short");
                        var q = new ushort[64];
                        for (int i = 0; i < 64; i++)
                            q[s_zigzag[i]] = pq == 0 ? seg[p + 1 + i] : BinaryPrimitives.ReadUInt16BigEndian(seg[(p + 1 + 2 * i)..]);
                        qt[tq] = q;
                        p += 1 + size;
                    }
                    break;
                case 0xC4: // DHT
                    for (int p = 0; p < seg.Length;)
                    {
                        if (seg.Length - p < 17) throw Fail(name, "DHT segment is too short");
                        int tc = seg[p] >> 4, th = seg[p] & 15;
                        if (tc > 1 || th > 3) throw Fail(name, $"DHT class {tc} id {th} is invalid");
                        var counts = seg.Slice(p + 1, 16);
                        int total = 0;
                        foreach (var c in counts) total += c;
                        if (total > 256 || seg.Length - p - 17 < total) throw Fail(name, $"DHT table declares {total} symbols");
                        var table = new Huffman(counts, seg.Slice(p + 17, total).ToArray(), name);
                        if (tc == 0) dc[th] = table; else ac[th] = table;
                        p += 17 + total;
                    }
                    break;
                case 0xDD: // DRI
                    if (seg.Length != 2) throw Fail(name, "DRI segment must hold 2 bytes");
                    restart = BinaryPrimitives.ReadUInt16BigEndian(seg);
                    break;
                case 0xEE: // APP14 Adobe: transform 0 with 3 components means RGB, not YCbCr
                    if (seg.Length >= 12 && seg[..5].SequenceEqual("Adobe"u8)) adobeRgb = seg[11] == 0;
                    break;
                case 0xC0:
                case 0xC1:
                {
                    if (sawFrame) throw Fail(name, "more than one frame header");
                    sawFrame = true;
                    if (seg.Length < 6) throw Fail(name, "SOF segment is too short");
                    if (seg[0] != 8) throw Fail(name, $"{seg[0]}-bit samples are not supported (baseline JPEG is 8-bit)");
                    height = BinaryPrimitives.ReadUInt16BigEndian(seg[1..]);
                    width = BinaryPrimitives.ReadUInt16BigEndian(seg[3..]);
                    int nc = seg[5];
                    if (width == 0 || height == 0) throw Fail(name, $"frame size {width}×{height} is empty (DNL-defined heights are not supported)");
                    if ((long)width * height > options.MaxPixels)
                        throw Fail(name, $"{width}×{height} = {(long)width * height} pixels exceeds the limit of {options.MaxPixels}");
                    if (nc is not (1 or 3)) throw Fail(name, nc == 4 ? "CMYK/YCCK JPEGs are not supported" : $"{nc} colour components are not supported");
                    if (seg.Length != 6 + 3 * nc) throw Fail(name, "SOF segment length does not match its component count");
                    comps = new Component[nc];
                    for (int i = 0; i < nc; i++)
                    {
                        var c = new Component { Id = seg[6 + 3 * i], H = seg[7 + 3 * i] >> 4, V = seg[7 + 3 * i] & 15, Tq = seg[8 + 3 * i] };
                        if (c.H is < 1 or > 4 || c.V is < 1 or > 4) throw Fail(name, $"component {c.Id} has sampling factors {c.H}×{c.V}");
                        if (c.Tq > 3) throw Fail(name, $"component {c.Id} uses quantisation table {c.Tq}");
                        comps[i] = c;
                    }
                    hmax = comps.Max(c => c.H); vmax = comps.Max(c => c.V);
                    // Every block costs at least two bits (a DC code and an end-of-block code), so a
                    // file too small for its declared size fails here, before the planes are allocated.
                    long minBlocks = comps.Sum(c => (long)(((long)width * c.H / hmax + 7) / 8) * (((long)height * c.V / vmax + 7) / 8));
                    if ((long)(data.Length - pos) * 8 < minBlocks * 2)
                        throw Fail(name, $"truncated: {width}×{height} needs at least {minBlocks} coded blocks but only {data.Length - pos} bytes follow the frame header");
                    int mcusX = (width + 8 * hmax - 1) / (8 * hmax), mcusY = (height + 8 * vmax - 1) / (8 * vmax);
                    foreach (var c in comps)
                    {
                        c.Width = (width * c.H + hmax - 1) / hmax;
                        c.Height = (height * c.V + vmax - 1) / vmax;
                        c.BlocksW = mcusX * c.H; c.BlocksH = mcusY * c.V;
                        c.Plane = new byte[checked(c.BlocksW * 8 * c.BlocksH * 8)];
                    }
                    break;
                }
                case 0xC2: case 0xC3: case 0xC5: case 0xC6: case 0xC7: case 0xC9: case 0xCA: case 0xCB: case 0xCD: case 0xCE: case 0xCF:
                    throw Fail(name, marker == 0xC2 ? "progressive JPEGs are not supported (re-save as baseline or PNG)" : $"JPEG process SOF{marker - 0xC0} is not supported (only baseline)");
                case 0xDA: // SOS, followed by entropy-coded data
                {
                    if (comps is null) throw Fail(name, "scan before the frame header");
                    if (seg.Length < 1) throw Fail(name, "SOS segment is too short");
                    int ns = seg[0];
                    if (ns < 1 || ns > comps.Length || seg.Length != 4 + 2 * ns) throw Fail(name, "SOS segment is malformed");
                    var scan = new Component[ns];
                    for (int i = 0; i < ns; i++)
                    {
                        int id = seg[1 + 2 * i];
                        var c = comps.FirstOrDefault(x => x.Id == id) ?? throw Fail(name, $"scan names component {id}, which the frame does not have");
                        c.Td = seg[2 + 2 * i] >> 4; c.Ta = seg[2 + 2 * i] & 15;
                        if (c.Td > 3 || c.Ta > 3 || dc[c.Td] is null || ac[c.Ta] is null) throw Fail(name, $"component {id} uses a Huffman table that is not defined");
                        if (qt[c.Tq] is null) throw Fail(name, $"component {id} uses quantisation table {c.Tq}, which is not defined");
                        scan[i] = c;
                    }
                    pos = DecodeScan(data, pos, scan, dc, ac, qt, restart, hmax, vmax, width, height, name);
                    sawScan = true;
                    break;
                }
                default:
                    break; // APPn, COM and others: metadata only
            }
        }
        if (comps is null || !sawScan) throw Fail(name, "no image data (no frame or scan)");
        return ToRgb(comps, width, height, hmax, vmax, adobeRgb);
    }

    private ref struct BitReader(ReadOnlySpan<byte> data, int pos, string name)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private readonly string _name = name;
        public int Pos = pos;
        private uint _bits;
        private int _count;
        public bool HitMarker;

        public int Bit()
        {
            if (_count == 0) Fill();
            _count--;
            return (int)((_bits >> _count) & 1);
        }

        private void Fill()
        {
            if (HitMarker || Pos >= _data.Length) { HitMarkerOrEnd(); return; }
            byte b = _data[Pos];
            if (b == 0xFF)
            {
                if (Pos + 1 >= _data.Length) throw Fail(_name, "truncated inside the image data");
                if (_data[Pos + 1] == 0x00) { Pos += 2; _bits = 0xFF; _count = 8; return; }
                HitMarker = true; // a marker ends the entropy data; pad with zeros like libjpeg, then complain at the end
                HitMarkerOrEnd();
                return;
            }
            Pos++;
            _bits = b; _count = 8;
        }

        private void HitMarkerOrEnd()
        {
            if (Pos >= _data.Length) throw Fail(_name, "truncated inside the image data");
            _bits = 0; _count = 8;
            Overrun++;
            if (Overrun > 64) throw Fail(_name, "the image data ends before all blocks are decoded (truncated or corrupt scan)");
        }

        public int Overrun;

        public int Receive(int n)
        {
            int v = 0;
            for (int i = 0; i < n; i++) v = (v << 1) | Bit();
            return v;
        }

        public void Reset() { _bits = 0; _count = 0; }

        public int Decode(Huffman h)
        {
            int code = Bit(), len = 1;
            while (code > h.MaxCode[len])
            {
                code = (code << 1) | Bit();
                if (++len > 16) throw Fail(_name, "invalid Huffman code in the image data");
            }
            return h.Values[h.ValPtr[len] + code - h.MinCode[len]];
        }
    }

    private static int Extend(int v, int t) => t == 0 ? 0 : v < (1 << (t - 1)) ? v - (1 << t) + 1 : v;

    private static int DecodeScan(ReadOnlySpan<byte> data, int pos, Component[] scan, Huffman?[] dc, Huffman?[] ac, ushort[][] qt,
        int restart, int hmax, int vmax, int width, int height, string name)
    {
        var br = new BitReader(data, pos, name);
        foreach (var c in scan) c.Pred = 0;
        Span<int> coef = new int[64];
        int mcusX, mcusY;
        if (scan.Length == 1)
        {
            // Non-interleaved: the component's own blocks, without MCU padding.
            var c = scan[0];
            mcusX = (c.Width + 7) / 8; mcusY = (c.Height + 7) / 8;
        }
        else
        {
            mcusX = (width + 8 * hmax - 1) / (8 * hmax); mcusY = (height + 8 * vmax - 1) / (8 * vmax);
        }
        int total = mcusX * mcusY, done = 0, nextRst = 0;
        for (int my = 0; my < mcusY; my++)
            for (int mx = 0; mx < mcusX; mx++)
            {
                if (restart > 0 && done > 0 && done % restart == 0)
                {
                    // Byte-align, expect RSTn, reset predictions.
                    br.Reset();
                    while (br.Pos + 1 < data.Length && !(data[br.Pos] == 0xFF && data[br.Pos + 1] is >= 0xD0 and <= 0xD7)) br.Pos++;
                    if (br.Pos + 1 >= data.Length) throw Fail(name, "truncated: a restart marker is missing");
                    if (data[br.Pos + 1] != 0xD0 + nextRst) throw Fail(name, $"restart marker RST{data[br.Pos + 1] - 0xD0} found where RST{nextRst} was expected");
                    nextRst = (nextRst + 1) & 7;
                    br.Pos += 2;
                    br.HitMarker = false;
                    foreach (var c in scan) c.Pred = 0;
                }
                foreach (var c in scan)
                {
                    int bh = scan.Length == 1 ? 1 : c.H, bv = scan.Length == 1 ? 1 : c.V;
                    for (int by = 0; by < bv; by++)
                        for (int bx = 0; bx < bh; bx++)
                        {
                            DecodeBlock(ref br, c, dc[c.Td]!, ac[c.Ta]!, qt[c.Tq], coef, name);
                            int blockX = scan.Length == 1 ? mx : mx * c.H + bx, blockY = scan.Length == 1 ? my : my * c.V + by;
                            Idct(coef, c.Plane, c.BlocksW * 8, blockX * 8, blockY * 8);
                        }
                }
                done++;
            }
        if (br.Overrun > 0) throw Fail(name, $"the image data ends after {done} of {total} MCUs are decoded (truncated or corrupt scan)");
        // Skip to the next marker (after the entropy data).
        int p = br.Pos;
        while (p + 1 < data.Length && !(data[p] == 0xFF && data[p + 1] != 0x00 && data[p + 1] is not (>= 0xD0 and <= 0xD7))) p++;
        if (p + 1 >= data.Length) throw Fail(name, "truncated: no marker after the image data");
        return p;
    }

    private static void DecodeBlock(ref BitReader br, Component c, Huffman dcT, Huffman acT, ushort[] q, Span<int> coef, string name)
    {
        coef.Clear();
        int t = br.Decode(dcT);
        if (t > 11) throw Fail(name, $"DC difference category {t} is out of range");
        c.Pred += Extend(br.Receive(t), t);
        coef[0] = c.Pred * q[0];
        for (int k = 1; k < 64;)
        {
            int rs = br.Decode(acT), r = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (r != 15) break; // EOB
                k += 16;
                continue;
            }
            k += r;
            if (k > 63) throw Fail(name, "AC coefficients run past the end of a block");
            int z = s_zigzag[k];
            coef[z] = Extend(br.Receive(s), s) * q[z];
            k++;
        }
    }

    /// <summary>Separable inverse DCT of one dequantised block, +128, rounded and clamped, into a plane.</summary>
    private static void Idct(ReadOnlySpan<int> coef, byte[] plane, int stride, int x0, int y0)
    {
        Span<double> tmp = stackalloc double[64];
        for (int v = 0; v < 8; v++)          // rows of coefficients: inverse along u (x)
            for (int x = 0; x < 8; x++)
            {
                double s = 0;
                for (int u = 0; u < 8; u++) s += s_idct[x * 8 + u] * coef[v * 8 + u];
                tmp[v * 8 + x] = s;
            }
        for (int x = 0; x < 8; x++)
            for (int y = 0; y < 8; y++)
            {
                double s = 0;
                for (int v = 0; v < 8; v++) s += s_idct[y * 8 + v] * tmp[v * 8 + x];
                int p = (int)Math.Round(s + 128, MidpointRounding.AwayFromZero);
                plane[(y0 + y) * stride + x0 + x] = (byte)Math.Clamp(p, 0, 255);
            }
    }

    private static RgbImage ToRgb(Component[] comps, int width, int height, int hmax, int vmax, bool adobeRgb)
    {
        var rgb = new byte[checked(width * height * 3)];
        if (comps.Length == 1)
        {
            var c = comps[0];
            int stride = c.BlocksW * 8;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    byte v = c.Plane[y * stride + x];
                    int i = (y * width + x) * 3;
                    rgb[i] = rgb[i + 1] = rgb[i + 2] = v;
                }
            return new RgbImage(width, height, rgb);
        }
        var full = comps.Select(c => Upsample(c, hmax / c.H, vmax / c.V, hmax % c.H == 0 && vmax % c.V == 0, width, height)).ToArray();
        for (int i = 0, n = width * height; i < n; i++)
        {
            int y = full[0][i], cb = full[1][i], cr = full[2][i];
            if (adobeRgb) { rgb[i * 3] = (byte)y; rgb[i * 3 + 1] = (byte)cb; rgb[i * 3 + 2] = (byte)cr; continue; }
            // JFIF: R = Y + 1.402 Cr', G = Y − 0.34414 Cb' − 0.71414 Cr', B = Y + 1.772 Cb', in libjpeg's
            // 16-bit fixed point (jdcolor.c's tables), so the rounding is libjpeg's.
            int cbd = cb - 128, crd = cr - 128;
            rgb[i * 3] = Clamp(y + ((Fix(1.40200) * crd + Half) >> 16));
            rgb[i * 3 + 1] = Clamp(y + ((-Fix(0.34414) * cbd + Half - Fix(0.71414) * crd) >> 16));
            rgb[i * 3 + 2] = Clamp(y + ((Fix(1.77200) * cbd + Half) >> 16));
        }
        return new RgbImage(width, height, rgb);

        static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
    }

    private const int Half = 1 << 15;

    private static int Fix(double x) => (int)(x * 65536 + 0.5);

    /// <summary>A component plane at full resolution (width × height): libjpeg's fancy triangle
    /// upsampling for 2×1 and 2×2, pixel replication for other integer factors.</summary>
    private static byte[] Upsample(Component c, int fx, int fy, bool integral, int width, int height)
    {
        if (!integral) throw new ImageFormatException($"JPEG: sampling factors {c.H}×{c.V} do not divide the maximum; not supported.");
        int stride = c.BlocksW * 8, cw = c.Width, ch = c.Height;
        var outp = new byte[width * height];
        if (fx == 1 && fy == 1)
        {
            for (int y = 0; y < height; y++) Array.Copy(c.Plane, y * stride, outp, y * width, width);
            return outp;
        }
        if (fx == 2 && (fy == 1 || fy == 2))
        {
            var row = new int[cw];
            var line = new byte[2 * cw];
            for (int y = 0; y < height; y++)
            {
                if (fy == 1)
                    for (int i = 0; i < cw; i++) row[i] = c.Plane[y * stride + i] * 4;  // ×4 so both cases share the horizontal step
                else
                {
                    // Vertical triangle: 3/4 of the nearer chroma row + 1/4 of the further one.
                    int cy = y / 2, other = y % 2 == 0 ? Math.Max(cy - 1, 0) : Math.Min(cy + 1, ch - 1);
                    for (int i = 0; i < cw; i++) row[i] = 3 * c.Plane[cy * stride + i] + c.Plane[other * stride + i];
                }
                // Horizontal triangle with libjpeg's rounding (h2v1: +1/+2 on /4, here scaled to /16; h2v2: +8/+7 on /16).
                int bias0 = fy == 1 ? 4 : 8, bias1 = fy == 1 ? 8 : 7;
                if (cw == 1) { line[0] = line[1] = (byte)((row[0] * 4 + bias0) >> 4); }
                else
                {
                    line[0] = (byte)((row[0] * 4 + bias0) >> 4);
                    line[1] = (byte)((row[0] * 3 + row[1] + bias1) >> 4);
                    for (int i = 1; i < cw - 1; i++)
                    {
                        line[2 * i] = (byte)((row[i] * 3 + row[i - 1] + bias0) >> 4);
                        line[2 * i + 1] = (byte)((row[i] * 3 + row[i + 1] + bias1) >> 4);
                    }
                    line[2 * (cw - 1)] = (byte)((row[cw - 1] * 3 + row[cw - 2] + bias0) >> 4);
                    line[2 * cw - 1] = (byte)((row[cw - 1] * 4 + bias1) >> 4);
                }
                Array.Copy(line, 0, outp, y * width, width);
            }
            return outp;
        }
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                outp[y * width + x] = c.Plane[Math.Min(y / fy, ch - 1) * stride + Math.Min(x / fx, cw - 1)];
        return outp;
    }

    private static ImageFormatException Fail(string name, string problem) => new($"{name}: {problem}.");
}
