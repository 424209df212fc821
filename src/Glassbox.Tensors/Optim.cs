// Optimisers for training small models. Parameters are plain tensors updated in place; gradients
// come from Tape.Gradient/Accumulate in the same order as the parameter list.
using System.Numerics.Tensors;

namespace Glassbox.Tensors;

public abstract class Optimizer
{
    protected Optimizer(IReadOnlyList<Tensor> parameters, float learningRate)
    {
        if (parameters.Count == 0) throw new ArgumentException($"{GetType().Name}: no parameters to optimise.");
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"{GetType().Name}: learning rate must be ≥ 0, got {learningRate}.");
        Parameters = parameters;
        LearningRate = learningRate;
    }

    public IReadOnlyList<Tensor> Parameters { get; }
    public float LearningRate { get; set; }
    public long StepCount { get; private set; }

    /// <summary>Applies one update. grads[i] belongs to Parameters[i]; a null gradient skips it.</summary>
    public void Step(IReadOnlyList<Tensor?> grads)
    {
        if (grads.Count != Parameters.Count)
            throw new ArgumentException($"{GetType().Name}.Step: {grads.Count} gradients for {Parameters.Count} parameters.");
        StepCount++;
        for (int i = 0; i < grads.Count; i++)
        {
            if (grads[i] is not { } g) continue;
            if (!ShapeUtil.Equal(g.Shape, Parameters[i].Shape))
                throw new ArgumentException($"{GetType().Name}.Step: gradient {i} has shape {ShapeUtil.Format(g.Shape)}, parameter has {ShapeUtil.Format(Parameters[i].Shape)}.");
            Update(i, Parameters[i].Span, g.Span);
        }
    }

    protected abstract void Update(int index, Span<float> p, ReadOnlySpan<float> g);

    /// <summary>Scales gradients in place so their global L2 norm is at most maxNorm (as
    /// torch.nn.utils.clip_grad_norm_); returns the norm before clipping.</summary>
    public static float ClipGradNorm(IReadOnlyList<Tensor?> grads, float maxNorm)
    {
        double ss = 0;
        foreach (var g in grads)
            if (g is not null) { float n = TensorPrimitives.Norm(g.Span); ss += (double)n * n; }
        float total = (float)Math.Sqrt(ss);
        float coef = maxNorm / (total + 1e-6f);
        if (coef < 1)
            foreach (var g in grads)
                if (g is not null) TensorPrimitives.Multiply(g.Span, coef, g.Span);
        return total;
    }
}

/// <summary>SGD with optional momentum (PyTorch's formulation: v = μv + g; p -= lr·v) and L2 weight decay.</summary>
public sealed class Sgd(IReadOnlyList<Tensor> parameters, float learningRate, float momentum = 0f, float weightDecay = 0f)
    : Optimizer(parameters, learningRate)
{
    private readonly float[]?[] _velocity = new float[]?[parameters.Count];

    protected override void Update(int index, Span<float> p, ReadOnlySpan<float> g)
    {
        for (int j = 0; j < p.Length; j++)
        {
            float d = g[j] + weightDecay * p[j];
            if (momentum != 0)
            {
                var v = _velocity[index] ??= new float[p.Length];
                v[j] = StepCount == 1 ? d : momentum * v[j] + d;
                d = v[j];
            }
            p[j] -= LearningRate * d;
        }
    }
}

/// <summary>AdamW (Loshchilov &amp; Hutter): Adam moments with bias correction, weight decay
/// decoupled from the gradient (p -= lr·wd·p), as torch.optim.AdamW.</summary>
public sealed class AdamW(IReadOnlyList<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
    float eps = 1e-8f, float weightDecay = 0.01f) : Optimizer(parameters, learningRate)
{
    private readonly float[]?[] _m = new float[]?[parameters.Count];
    private readonly float[]?[] _v = new float[]?[parameters.Count];
    private readonly long[] _t = new long[parameters.Count];

    protected override void Update(int index, Span<float> p, ReadOnlySpan<float> g)
    {
        var m = _m[index] ??= new float[p.Length];
        var v = _v[index] ??= new float[p.Length];
        long t = ++_t[index];
        double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
        float stepSize = (float)(LearningRate / bc1);
        float bc2Sqrt = (float)Math.Sqrt(bc2);
        float decay = 1 - LearningRate * weightDecay;
        for (int j = 0; j < p.Length; j++)
        {
            p[j] *= decay;
            m[j] = beta1 * m[j] + (1 - beta1) * g[j];
            v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j];
            p[j] -= stepSize * m[j] / (MathF.Sqrt(v[j]) / bc2Sqrt + eps);
        }
    }
}

/// <summary>Linear warm-up from 0 to the base rate over warmupSteps, then linear decay to 0 at
/// totalSteps (transformers' get_linear_schedule_with_warmup).</summary>
public sealed class LinearSchedule
{
    public LinearSchedule(float baseRate, int warmupSteps, int totalSteps)
    {
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps)
            throw new ArgumentException($"LinearSchedule: need 0 ≤ warmupSteps ({warmupSteps}) ≤ totalSteps ({totalSteps}) and totalSteps > 0.");
        BaseRate = baseRate; WarmupSteps = warmupSteps; TotalSteps = totalSteps;
    }

    public float BaseRate { get; }
    public int WarmupSteps { get; }
    public int TotalSteps { get; }

    /// <summary>Learning rate for 0-based step index.</summary>
    public float RateAt(int step)
    {
        if (step < WarmupSteps) return BaseRate * step / Math.Max(1, WarmupSteps);
        return BaseRate * Math.Max(0f, (float)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
    }
}
