// Image resizing with PIL's semantics (Pillow's libImaging/Resample.c), which is what the
// reference image processors run: a separable convolution, horizontal pass first, then
// vertical, each output pixel a normalised weighted sum over the input pixels its filter covers.
// When shrinking, the filter is stretched by the scale factor (support × scale), which is the
// antialiasing. 8-bit images are computed in fixed point and rounded to 8 bits after each pass,
// exactly as Pillow does, so results match it bit for bit.
//
// torchvision's uint8 path (transformers 5's default ViTImageProcessor, CPU with AVX2) runs the
// same algorithm with 16-bit weights at a precision chosen from the largest weight; Arithmetic
// selects which of the two to reproduce.
namespace Glassbox.Models.Images;

/// <summary>PIL's resample filter ids (as "resample" in preprocessor_config.json).</summary>
public enum ResampleFilter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 }

/// <summary>Fixed-point variant: Pillow (32-bit weights, 22 fractional bits) or torch's uint8 kernel (16-bit weights).</summary>
public enum ResampleArithmetic { Pillow, TorchUint8 }

public static class Resample
{
    private const int PillowPrecisionBits = 32 - 8 - 2;

    public static RgbImage Resize(RgbImage image, int width, int height, ResampleFilter filter = ResampleFilter.Bilinear, ResampleArithmetic arithmetic = ResampleArithmetic.Pillow)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Resize: target size {width}×{height} must be positive.");
        if (width == image.Width && height == image.Height) return new RgbImage(width, height, (byte[])image.Pixels.Clone());
        if (filter == ResampleFilter.Nearest) return Nearest(image, width, height);

        var (support, fn) = Filter(filter);
        byte[] src = image.Pixels;
        int w = image.Width, h = image.Height;
        if (width != w)
        {
            var (bounds, weights, k) = Coefficients(w, width, support, fn);
            var (fixedW, bits) = ToFixed(weights, arithmetic);
            src = Horizontal(src, w, h, width, bounds, fixedW, k, bits);
            w = width;
        }
        if (height != h)
        {
            var (bounds, weights, k) = Coefficients(h, height, support, fn);
            var (fixedW, bits) = ToFixed(weights, arithmetic);
            src = Vertical(src, w, h, height, bounds, fixedW, k, bits);
            h = height;
        }
        return new RgbImage(w, h, src);
    }

    /// <summary>Float weights per output position as Pillow's precompute_coeffs makes them:
    /// bounds[2i] = first input index, bounds[2i+1] = count; weights[i·k + j], normalised to sum 1.</summary>
    public static (int[] Bounds, double[] Weights, int K) Coefficients(int inSize, int outSize, double filterSupport, Func<double, double> filter)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int k = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new double[(long)outSize * k];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            int xmin = Math.Max(0, (int)(center - support + 0.5));
            int xmax = Math.Min(inSize, (int)(center + support + 0.5)) - xmin;
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                double wgt = filter((x + xmin - center + 0.5) * ss);
                weights[xx * k + x] = wgt;
                total += wgt;
            }
            if (total != 0)
                for (int x = 0; x < xmax; x++) weights[xx * k + x] /= total;
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return (bounds, weights, k);
    }

    private static (int[] Weights, int Bits) ToFixed(double[] weights, ResampleArithmetic arithmetic)
    {
        int bits = PillowPrecisionBits;
        if (arithmetic == ResampleArithmetic.TorchUint8)
        {
            // The largest precision at which the biggest weight still fits in an int16 with a bit to spare.
            double wMax = 0;
            foreach (var w in weights) wMax = Math.Max(wMax, w);
            for (bits = 0; bits < 22; bits++)
                if ((int)(0.5 + wMax * (1 << (bits + 1))) >= (1 << 15)) break;
        }
        var f = new int[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            double v = weights[i] * (1 << bits);
            f[i] = (int)(v < 0 ? v - 0.5 : v + 0.5);
        }
        return (f, bits);
    }

    private static byte Clip(int acc, int bits)
    {
        int v = acc >> bits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    private static byte[] Horizontal(byte[] src, int w, int h, int outW, int[] bounds, int[] k, int ksize, int bits)
    {
        var dst = new byte[(long)outW * h * 3];
        int half = 1 << (bits - 1);
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < outW; xx++)
            {
                int xmin = bounds[xx * 2], n = bounds[xx * 2 + 1], kb = xx * ksize;
                int r = half, g = half, b = half;
                for (int x = 0; x < n; x++)
                {
                    int s = (y * w + xmin + x) * 3, wt = k[kb + x];
                    r += src[s] * wt; g += src[s + 1] * wt; b += src[s + 2] * wt;
                }
                int d = (y * outW + xx) * 3;
                dst[d] = Clip(r, bits); dst[d + 1] = Clip(g, bits); dst[d + 2] = Clip(b, bits);
            }
        return dst;
    }

    private static byte[] Vertical(byte[] src, int w, int h, int outH, int[] bounds, int[] k, int ksize, int bits)
    {
        var dst = new byte[(long)w * outH * 3];
        int half = 1 << (bits - 1);
        for (int yy = 0; yy < outH; yy++)
        {
            int ymin = bounds[yy * 2], n = bounds[yy * 2 + 1], kb = yy * ksize;
            for (int x = 0; x < w; x++)
            {
                int r = half, g = half, b = half;
                for (int y = 0; y < n; y++)
                {
                    int s = ((ymin + y) * w + x) * 3, wt = k[kb + y];
                    r += src[s] * wt; g += src[s + 1] * wt; b += src[s + 2] * wt;
                }
                int d = (yy * w + x) * 3;
                dst[d] = Clip(r, bits); dst[d + 1] = Clip(g, bits); dst[d + 2] = Clip(b, bits);
            }
        }
        return dst;
    }

    /// <summary>PIL's NEAREST: the input pixel under each output pixel's centre.</summary>
    private static RgbImage Nearest(RgbImage image, int width, int height)
    {
        var dst = new byte[(long)width * height * 3];
        double sx = (double)image.Width / width, sy = (double)image.Height / height;
        for (int y = 0; y < height; y++)
        {
            int iy = Math.Min(image.Height - 1, (int)((y + 0.5) * sy));
            for (int x = 0; x < width; x++)
            {
                int ix = Math.Min(image.Width - 1, (int)((x + 0.5) * sx));
                Array.Copy(image.Pixels, (iy * image.Width + ix) * 3, dst, (y * width + x) * 3, 3);
            }
        }
        return new RgbImage(width, height, dst);
    }

    private static (double Support, Func<double, double> Fn) Filter(ResampleFilter f) => f switch
    {
        ResampleFilter.Box => (0.5, x => x > -0.5 && x <= 0.5 ? 1.0 : 0.0),
        ResampleFilter.Bilinear => (1.0, x => { x = Math.Abs(x); return x < 1.0 ? 1.0 - x : 0.0; }),
        ResampleFilter.Hamming => (1.0, Hamming),
        ResampleFilter.Bicubic => (2.0, Bicubic),
        ResampleFilter.Lanczos => (3.0, x => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0),
        _ => throw new ArgumentException($"Resize: unknown resample filter {(int)f}; PIL's are 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming."),
    };

    private static double Hamming(double x)
    {
        x = Math.Abs(x);
        if (x == 0.0) return 1.0;
        if (x >= 1.0) return 0.0;
        x *= Math.PI;
        return Math.Sin(x) / x * (0.54f + 0.46f * Math.Cos(x)); // Pillow's constants are float literals
    }

    private static double Bicubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
