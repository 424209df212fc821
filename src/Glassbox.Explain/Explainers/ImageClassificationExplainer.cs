// transformers-interpret's ImageClassificationExplainer for ViT: attributions to the pixel values
// the image processor produces, for the target class's logit (not a probability). The default is
// its "IGNT": Captum NoiseTunnel (smoothgrad, 10 samples, stdev 1) over IntegratedGradients with
// 5 steps from a zero baseline; "IG" is plain IntegratedGradients (50 Gauss–Legendre steps, zero
// baseline) with Captum's convergence delta. The result is the attribution map [channels, H, W] and
// its channel sum [H, W]; heatmaps, overlays and masks are drawn by Glassbox.Render.
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Images;
using Glassbox.Tensors;

namespace Glassbox.Explain.Explainers;

public enum ImageAttributionType { IntegratedGradients, IntegratedGradientsNoiseTunnel, Saliency, InputXGradient }

public sealed record ImageExplainerOptions
{
    public ImageAttributionType Type { get; init; } = ImageAttributionType.IntegratedGradientsNoiseTunnel;
    /// <summary>IG steps without noise tunnel (transformers-interpret: 50).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>IG steps inside the noise tunnel (transformers-interpret: 5).</summary>
    public int NoiseTunnelSteps { get; init; } = 5;
    public int NoiseTunnelSamples { get; init; } = 10;
    public GradientMethods.NoiseTunnelType NoiseTunnelType { get; init; } = GradientMethods.NoiseTunnelType.SmoothGrad;
    public float NoiseStdev { get; init; } = 1f;
    public int Seed { get; init; }
    /// <summary>Interpolation points per forward pass (Captum's internal_batch_size). Null picks
    /// <see cref="GradientMethods.DefaultInternalBatchSize"/> for the ViT's token count (patches + [CLS]),
    /// which bounds memory; the attributions do not depend on it.</summary>
    public int? InternalBatchSize { get; init; }
    public QuadratureRule Quadrature { get; init; } = QuadratureRule.GaussLegendre;
}

public sealed class ImageClassificationExplanation : Explanation
{
    public override string Task => "image-classification";
    public required IReadOnlyList<string> Labels { get; init; }
    public required IReadOnlyList<double> Probabilities { get; init; }
    public required int PredictedClassIndex { get; init; }
    public required string PredictedClassName { get; init; }
    public required double PredictedProbability { get; init; }
    public required int AttributedClassIndex { get; init; }
    public required string AttributedClassName { get; init; }
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    /// <summary>Attributions per pixel value [channels, height, width], row-major.</summary>
    public required float[] Attributions { get; init; }
    /// <summary>Attributions summed over channels [height, width].</summary>
    public required float[] PixelMap { get; init; }
    /// <summary>The model input [channels, height, width] (normalised pixel values).</summary>
    public required float[] PixelValues { get; init; }
    /// <summary>The image as the model saw it before normalisation (resized).</summary>
    public required RgbImage ResizedImage { get; init; }
    public double? ConvergenceDelta { get; init; }
}

public sealed class ImageClassificationExplainer
{
    private readonly Vit _model;
    private readonly ExplainerModel _info;

    public ImageClassificationExplainer(TransformerModel model, VitImageProcessor processor, string? modelPath = null, ImageExplainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model); ArgumentNullException.ThrowIfNull(processor);
        _model = model as Vit ?? throw new NotSupportedException($"ImageClassificationExplainer needs a ViT image classifier; got {model.ArchitectureName}.");
        if (_model.Head != VitHead.ImageClassification)
            throw new NotSupportedException($"ImageClassificationExplainer needs ViTForImageClassification; got {model.ArchitectureName}.");
        Processor = processor;
        Options = options ?? new ImageExplainerOptions();
        _info = new ExplainerModel(model, modelPath);
    }

    public static ImageClassificationExplainer FromPretrained(string directory, ImageExplainerOptions? options = null) =>
        new(AutoModel.FromPretrained(directory), VitImageProcessor.FromPretrained(directory), directory, options);

    public VitImageProcessor Processor { get; }
    public ImageExplainerOptions Options { get; }
    public IReadOnlyList<string> Labels => _info.Labels;

    public ImageClassificationExplanation Explain(string imagePath, int? index = null, string? className = null, ImageExplainerOptions? options = null) =>
        Explain(RgbImage.Load(imagePath), index, className, options);

    public ImageClassificationExplanation Explain(RgbImage image, int? index = null, string? className = null, ImageExplainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        // Hooks belong to the model: explainers sharing a model take turns.
        lock (_model) return ExplainUnlocked(image, index, className, options);
    }

    private ImageClassificationExplanation ExplainUnlocked(RgbImage image, int? index, string? className, ImageExplainerOptions? options)
    {
        var o = options ?? Options;
        var pixels = Processor.Preprocess(image);
        var logits = Logits(pixels);
        var probs = TextExplainer.Softmax(logits.ToArray());
        int predicted = TextExplainer.ArgMax(probs);
        int target = predicted;
        if (index is { } ix) { _info.CheckIndex(ix); target = ix; }
        else if (className is not null) target = _info.LabelIndex(className);

        float[] attr; double? delta = null;
        var p = new Dictionary<string, string> { ["target"] = Name(target), ["baseline"] = "zeros", ["output"] = "logit" };
        switch (o.Type)
        {
            case ImageAttributionType.IntegratedGradients:
                (attr, delta) = IntegratedGradients(pixels, target, o.Steps, o.Quadrature, o.InternalBatchSize);
                p["steps"] = o.Steps.ToString(); p["quadrature"] = Quadrature.Name(o.Quadrature);
                break;
            case ImageAttributionType.IntegratedGradientsNoiseTunnel:
                attr = NoiseTunnel(pixels, target, o);
                p["steps"] = o.NoiseTunnelSteps.ToString(); p["quadrature"] = Quadrature.Name(o.Quadrature);
                p["noiseTunnel"] = o.NoiseTunnelType.ToString(); p["samples"] = o.NoiseTunnelSamples.ToString();
                p["stdev"] = o.NoiseStdev.ToString("R"); p["seed"] = o.Seed.ToString();
                break;
            case ImageAttributionType.Saliency:
                attr = Gradient(pixels, target).Select(MathF.Abs).ToArray();
                break;
            default:
                attr = Gradient(pixels, target).Zip(pixels.ToArray(), (g, v) => g * v).ToArray();
                break;
        }
        int c = pixels.Shape[1], h = pixels.Shape[2], w = pixels.Shape[3];
        var map = new float[h * w];
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < h * w; i++) map[i] += attr[ch * h * w + i];
        string method = o.Type switch
        {
            ImageAttributionType.IntegratedGradients => "ig",
            ImageAttributionType.IntegratedGradientsNoiseTunnel => "ig-noise-tunnel",
            ImageAttributionType.Saliency => "saliency",
            _ => "input-x-gradient",
        };
        return new ImageClassificationExplanation
        {
            Labels = _info.Labels, Probabilities = probs, PredictedClassIndex = predicted, PredictedClassName = Name(predicted),
            PredictedProbability = probs[predicted], AttributedClassIndex = target, AttributedClassName = Name(target),
            Channels = c, Height = h, Width = w, Attributions = attr, PixelMap = map, PixelValues = pixels.ToArray(),
            ResizedImage = Processor.Resize(image), ConvergenceDelta = delta, Warnings = [],
            Provenance = new Provenance(nameof(ImageClassificationExplainer), method, p, _info.Name, _info.Path, _info.Hash, ExplainerModel.GlassboxVersion),
        };
    }

    private string Name(int i) => i < _info.Labels.Count ? _info.Labels[i] : $"LABEL_{i}";

    private Tensor Logits(Tensor pixels)
    {
        using var _ = Tape.NoGrad();
        return _model.Forward(pixels).Logits!;
    }

    /// <summary>∂ Σ_b logit[b, target] / ∂ pixels for a batch of pixel tensors.</summary>
    private float[] BatchGradient(Tensor batch, int target)
    {
        using var tape = Tape.Record();
        tape.Watch(batch);
        Tensor total;
        // Intermediates go back to the pool as soon as the backward has used them.
        using (var scope = TensorScope.Enter())
        {
            var logits = _model.Forward(batch).Logits!;
            total = scope.Keep(Ops.Sum(Ops.Narrow(logits, -1, target, 1)));
        }
        using var g = tape.Gradient(total, batch)[0];
        return g.ToArray();
    }

    private float[] Gradient(Tensor pixels, int target) => BatchGradient(pixels.Clone(), target);

    /// <summary>Captum IntegratedGradients from a zero baseline: x ⊙ Σ_k w_k ∇f(α_k x).</summary>
    private (float[] Attr, double Delta) IntegratedGradients(Tensor pixels, int target, int steps, QuadratureRule rule, int? internalBatchSize)
    {
        var (alphas, weights) = Quadrature.Points(rule, steps);
        int per = pixels.Length, chunk = Math.Max(1, internalBatchSize ?? GradientMethods.DefaultInternalBatchSize(steps, _model.PatchCount + 1));
        var x = pixels.ToArray();
        var total = new double[per];
        for (int start = 0; start < steps; start += chunk)
        {
            int m = Math.Min(chunk, steps - start);
            var batch = Tensor.Empty([m, .. pixels.Shape[1..]]);
            for (int i = 0; i < m; i++)
            {
                float a = (float)alphas[start + i];
                var dst = batch.Span.Slice(i * per, per);
                for (int j = 0; j < per; j++) dst[j] = a * x[j];
            }
            var g = BatchGradient(batch, target);
            for (int i = 0; i < m; i++)
            {
                double w = weights[start + i];
                for (int j = 0; j < per; j++) total[j] += w * g[i * per + j];
            }
        }
        var attr = new float[per];
        double sum = 0;
        for (int j = 0; j < per; j++) { attr[j] = (float)(x[j] * total[j]); sum += x[j] * total[j]; }
        double fx = Logits(pixels).Span[target];
        double f0 = Logits(Tensor.Zeros(pixels.Shape)).Span[target];
        return (attr, sum - (fx - f0));
    }

    /// <summary>Captum NoiseTunnel over IG: IG of the input plus Gaussian noise, combined over samples.</summary>
    private float[] NoiseTunnel(Tensor pixels, int target, ImageExplainerOptions o)
    {
        if (o.NoiseTunnelSamples < 1) throw new ArgumentOutOfRangeException(nameof(o), $"The noise tunnel needs at least one sample, got {o.NoiseTunnelSamples}.");
        int per = pixels.Length;
        var rng = new Random(o.Seed);
        var mean = new double[per]; var meanSq = new double[per];
        var x = pixels.ToArray();
        for (int s = 0; s < o.NoiseTunnelSamples; s++)
        {
            var noisy = Tensor.Empty(pixels.Shape);
            for (int j = 0; j < per; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                noisy.Span[j] = x[j] + o.NoiseStdev * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            var (a, _) = IntegratedGradients(noisy, target, o.NoiseTunnelSteps, o.Quadrature, o.InternalBatchSize);
            for (int j = 0; j < per; j++) { mean[j] += a[j] / (double)o.NoiseTunnelSamples; meanSq[j] += (double)a[j] * a[j] / o.NoiseTunnelSamples; }
        }
        var r = new float[per];
        for (int j = 0; j < per; j++)
            r[j] = (float)(o.NoiseTunnelType switch
            {
                GradientMethods.NoiseTunnelType.SmoothGrad => mean[j],
                GradientMethods.NoiseTunnelType.SmoothGradSquared => meanSq[j],
                _ => meanSq[j] - mean[j] * mean[j],
            });
        return r;
    }
}
