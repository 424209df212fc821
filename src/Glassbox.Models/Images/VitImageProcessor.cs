// transformers' ViTImageProcessor, driven by preprocessor_config.json: resize to
// size.height × size.width with the configured PIL filter (8-bit, antialiased when shrinking),
// rescale (× rescale_factor), normalise ((x − mean) / std per channel), channels first.
// Output: pixel_values [batch, 3, height, width], what Vit.Forward takes.
//
// Which resize: in transformers 5 "ViTImageProcessor" is the torchvision backend, which resizes
// the uint8 tensor with torch's antialiased kernel (PIL's algorithm with 16-bit weights); the PIL
// backend is "ViTImageProcessorPil". The default here reproduces the former, which is what the
// goldens were made with (bit-exact on vit-tiny-random's example.png; Pillow's 22-bit arithmetic
// differs by one level in 512 of its 3,072 values). Pass ResampleArithmetic.Pillow for the latter.
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Images;

public sealed class VitImageProcessor
{
    public VitImageProcessor(ImageProcessorConfig config, ResampleArithmetic arithmetic = ResampleArithmetic.TorchUint8)
    {
        if (config.ImageMean.Count != 3 || config.ImageStd.Count != 3)
            throw new ArgumentException($"ViTImageProcessor: image_mean and image_std must have 3 entries (RGB); got {config.ImageMean.Count} and {config.ImageStd.Count}.");
        if (config.ImageStd.Any(s => s == 0)) throw new ArgumentException("ViTImageProcessor: image_std contains 0.");
        if (config.DoResize && (config.Height <= 0 || config.Width <= 0))
            throw new ArgumentException($"ViTImageProcessor: size {config.Height}×{config.Width} must be positive.");
        if (!Enum.IsDefined((ResampleFilter)config.Resample))
            throw new ArgumentException($"ViTImageProcessor: resample {config.Resample} is not a PIL filter (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming).");
        Config = config;
        Arithmetic = arithmetic;
    }

    public ImageProcessorConfig Config { get; }
    public ResampleArithmetic Arithmetic { get; }

    /// <summary>Reads preprocessor_config.json from a model folder (or the file itself).</summary>
    public static VitImageProcessor FromPretrained(string pathOrFolder, ResampleArithmetic arithmetic = ResampleArithmetic.TorchUint8)
    {
        string path = Directory.Exists(pathOrFolder) ? Path.Combine(pathOrFolder, "preprocessor_config.json") : pathOrFolder;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: preprocessor_config.json not found; a ViT model folder needs one.", path);
        return new VitImageProcessor(ImageProcessorConfig.Load(path), arithmetic);
    }

    /// <summary>The resized 8-bit image (before rescale and normalisation).</summary>
    public RgbImage Resize(RgbImage image) => Config.DoResize
        ? Resample.Resize(image, Config.Width, Config.Height, (ResampleFilter)Config.Resample, Arithmetic)
        : image;

    /// <summary>pixel_values [1, 3, H, W] for one image.</summary>
    public Tensor Preprocess(RgbImage image) => Preprocess([image]);

    /// <summary>pixel_values [1, 3, H, W] for an image file (PNG).</summary>
    public Tensor Preprocess(string imagePath) => Preprocess(RgbImage.Load(imagePath));

    /// <summary>pixel_values [batch, 3, H, W]; every image must come out the same size.</summary>
    public Tensor Preprocess(IReadOnlyList<RgbImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("ViTImageProcessor: no images.");
        var resized = images.Select(Resize).ToArray();
        int w = resized[0].Width, h = resized[0].Height;
        if (resized.Any(r => r.Width != w || r.Height != h))
            throw new ArgumentException("ViTImageProcessor: images differ in size and do_resize is false; resize them to one size first.");
        var t = Tensor.Empty(resized.Length, 3, h, w);
        var s = t.Span;
        double rf = Config.DoRescale ? Config.RescaleFactor : 1.0;
        for (int i = 0; i < resized.Length; i++)
        {
            var px = resized[i].Pixels;
            for (int c = 0; c < 3; c++)
            {
                double mean = Config.DoNormalize ? Config.ImageMean[c] : 0, std = Config.DoNormalize ? Config.ImageStd[c] : 1;
                int plane = (i * 3 + c) * h * w;
                for (int p = 0; p < h * w; p++) s[plane + p] = (float)((px[p * 3 + c] * rf - mean) / std);
            }
        }
        return t;
    }
}
