using Glassbox.Tensors;

namespace Glassbox.Tensors.Tests;

/// <summary>Compares tape gradients with central finite differences. The loss is Σ w⊙f(x) with a
/// fixed random w, accumulated in double; the check is on the relative L2 error of whole gradients.</summary>
internal static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double tol = 1e-3, float h = 1e-2f, int maxElements = 48, int? only = null)
    {
        Tensor w;
        using (Tape.NoGrad())
        {
            using var y0 = f(inputs);
            w = Tensor.RandomUniform(y0.Shape, seed: 99, low: -1, high: 1);
        }
        Tensor[] analytic;
        using (var tape = Tape.Record())
        {
            foreach (var x in inputs) tape.Watch(x);
            var y = f(inputs);
            var loss = Ops.Sum(Ops.Mul(y, w));
            analytic = tape.Gradient(loss, inputs);
        }
        for (int i = 0; i < inputs.Length; i++)
        {
            if (only is not null && only != i) continue;
            int len = inputs[i].Length;
            var rng = new Random(7 + i);
            var picks = len <= maxElements ? Enumerable.Range(0, len).ToArray()
                : Enumerable.Range(0, maxElements).Select(_ => rng.Next(len)).Distinct().ToArray();
            double num2 = 0, diff2 = 0, an2 = 0;
            foreach (int j in picks)
            {
                float orig = inputs[i].Span[j];
                inputs[i].Span[j] = orig + h; double lp = Loss(f, inputs, w);
                inputs[i].Span[j] = orig - h; double lm = Loss(f, inputs, w);
                inputs[i].Span[j] = orig;
                double fd = (lp - lm) / (2.0 * h);
                double an = analytic[i].Span[j];
                num2 += fd * fd; an2 += an * an; diff2 += (fd - an) * (fd - an);
            }
            double denom = Math.Max(Math.Sqrt(Math.Max(num2, an2)), 1e-6);
            double rel = Math.Sqrt(diff2) / denom;
            Assert.True(rel <= tol, $"input {i} {ShapeUtil.Format(inputs[i].Shape)}: relative gradient error {rel:E3} > {tol:E1} (|fd| {Math.Sqrt(num2):E3}, |analytic| {Math.Sqrt(an2):E3})");
        }
    }

    private static double Loss(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor w)
    {
        using var _ = Tape.NoGrad();
        using var y = f(inputs);
        double s = 0;
        var Y = y.Span; var W = w.Span;
        for (int k = 0; k < Y.Length; k++) s += (double)Y[k] * W[k];
        return s;
    }

    public static Tensor Rand(int seed, params int[] shape) => Tensor.RandomNormal(shape, seed);

    /// <summary>Normal values pushed at least `gap` away from zero (for ops with a kink at 0).</summary>
    public static Tensor RandAwayFromZero(int seed, float gap, params int[] shape)
    {
        var t = Tensor.RandomNormal(shape, seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = s[i] >= 0 ? s[i] + gap : s[i] - gap;
        return t;
    }
}
