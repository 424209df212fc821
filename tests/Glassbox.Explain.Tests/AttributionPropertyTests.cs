using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Tensors;

namespace Glassbox.Explain.Tests;

public class AttributionPropertyTests
{
    private static readonly ModelInput Input = ModelInput.Single([3, 7, 1, 9, 4]);
    private static readonly ModelInput Baseline = ModelInput.Single([0, 0, 0, 0, 0]);

    [Theory]
    [InlineData(QuadratureRule.GaussLegendre)]
    [InlineData(QuadratureRule.RiemannMiddle)]
    [InlineData(QuadratureRule.RiemannTrapezoid)]
    [InlineData(QuadratureRule.RiemannLeft)]
    [InlineData(QuadratureRule.RiemannRight)]
    public void IntegratedGradientsCompletenessDeltaShrinksWithSteps(QuadratureRule rule)
    {
        var model = new ToyClassifier();
        double prev = double.PositiveInfinity;
        foreach (int steps in new[] { 4, 16, 64, 256 })
        {
            var a = GradientMethods.LayerIntegratedGradients(model, Input, Baseline, target: 1, steps: steps, rule: rule);
            double sum = a.Raw.Sum(v => (double)v);
            double expected = a.InputScore - a.BaselineScore!.Value;
            Assert.True(Math.Abs(sum - expected - a.ConvergenceDelta!.Value) < 1e-5, $"delta {a.ConvergenceDelta} vs Σattr − Δf {sum - expected}");
            double d = Math.Abs(a.ConvergenceDelta.Value);
            Assert.True(d <= prev + 1e-6, $"{rule}: |delta| grew from {prev} to {d} at {steps} steps");
            prev = d;
        }
        Assert.True(prev < 2e-3, $"{rule}: |delta| {prev} at 256 steps should be near 0");
    }

    [Fact]
    public void IntegratedGradientsSymmetry()
    {
        // Two positions holding the same token from the same baseline play symmetric roles in a
        // model that sums over positions: their attributions must be equal.
        var model = new ToyClassifier();
        var a = GradientMethods.LayerIntegratedGradients(model, ModelInput.Single([5, 2, 5]), ModelInput.Single([0, 0, 0]), 0, steps: 32);
        var s = a.SumLastDim();
        Assert.Equal(s[0], s[2], 6);
        Assert.NotEqual(0f, s[0]);
    }

    [Fact]
    public void SaliencyAndInputXGradientMatchFiniteDifferences()
    {
        var model = new ToyClassifier();
        var (act, grad, shape, score) = GradientMethods.LayerGradient(model, Input, 2);
        Assert.Equal([5, 6], shape);
        // Finite difference through a Replace hook on one coordinate.
        for (int j = 0; j < act.Length; j += 7)
        {
            double Fd(float delta)
            {
                var x = Tensor.FromArray(act, [1, .. shape]);
                x.Span[j] += delta;
                using var _ = model.Hooks.Replace("hook_embed", (_, _) => x);
                return model.Predict(Input).Span[2];
            }
            double fd = (Fd(1e-2f) - Fd(-1e-2f)) / 2e-2;
            Assert.True(Math.Abs(fd - grad[j]) <= 1e-3 + 1e-2 * Math.Abs(fd), $"coordinate {j}: fd {fd}, gradient {grad[j]}");
        }
        var sal = GradientMethods.Saliency(model, Input, 2);
        Assert.Equal(grad.Select(MathF.Abs).ToArray(), sal.Raw);
        var ixg = GradientMethods.InputXGradient(model, Input, 2);
        Assert.Equal(act.Zip(grad, (a, g) => a * g).ToArray(), ixg.Raw);
    }

    [Fact]
    public void NoiseTunnelWithZeroNoiseIsTheGradient()
    {
        var model = new ToyClassifier();
        var (_, grad, _, _) = GradientMethods.LayerGradient(model, Input, 0);
        var sg = GradientMethods.NoiseTunnel(model, Input, 0, samples: 3, stdev: 0f);
        for (int i = 0; i < grad.Length; i++) Assert.Equal(grad[i], sg.Raw[i], 5);
        var vg = GradientMethods.NoiseTunnel(model, Input, 0, type: GradientMethods.NoiseTunnelType.VarGrad, samples: 3, stdev: 0f);
        Assert.All(vg.Raw, v => Assert.True(Math.Abs(v) < 1e-9));
        var noisy = GradientMethods.NoiseTunnel(model, Input, 0, samples: 8, stdev: 0.5f, seed: 3);
        Assert.NotEqual(grad, noisy.Raw);
    }

    [Theory]
    [InlineData(SurrogateModel.Ridge)]
    [InlineData(SurrogateModel.Lasso)]
    public void LimeRecoversLinearWeights(SurrogateModel surrogate)
    {
        double[] w = [0.5, -1.25, 2.0, 0.0, 0.75];
        var model = new LinearBlackBox(w, 0.3, baselineId: 0);
        var a = PerturbationMethods.Lime(model, Input, 0, baselineId: 0, samples: 300, seed: 4, surrogate: surrogate, alpha: surrogate == SurrogateModel.Lasso ? 1e-6 : 1e-6);
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(a[i] - w[i]) < 1e-3, $"feature {i}: {a[i]} vs {w[i]}");
    }

    [Fact]
    public void KernelShapRecoversLinearWeights()
    {
        double[] w = [0.5, -1.25, 2.0, 0.0, 0.75];
        var model = new LinearBlackBox(w, -0.2, baselineId: 0);
        var a = PerturbationMethods.KernelShap(model, Input, 0, baselineId: 0, samples: 120, seed: 2);
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(a[i] - w[i]) < 1e-4, $"feature {i}: {a[i]} vs {w[i]}");
        // Efficiency: attributions sum to f(x) − f(baseline).
        Assert.Equal(w.Sum(), a.Sum(v => (double)v), 3);
    }

    [Fact]
    public void OcclusionOfAnIgnoredTokenScoresZero()
    {
        double[] w = [0.5, -1.25, 0.0, 1.0, 0.75]; // position 2 is ignored by the model
        var model = new LinearBlackBox(w, 0, baselineId: 0);
        var a = PerturbationMethods.FeatureAblation(model, Input, 0, baselineId: 0);
        Assert.Equal(0f, a[2]);
        Assert.Equal(-1.25f, a[1], 5);
        // Word groups: both positions of a group share the group's score.
        var g = PerturbationMethods.FeatureAblation(model, Input, 0, 0, [[0, 1], [2], [3, 4]]);
        Assert.Equal(-0.75f, g[0], 5); Assert.Equal(-0.75f, g[1], 5); Assert.Equal(1.75f, g[4], 5);
    }

    [Fact]
    public void GradientMethodsRefuseBlackBoxesClearly()
    {
        var model = new LinearBlackBox([1, 1, 1, 1, 1], 0, 0);
        var e = Assert.Throws<NotSupportedException>(() => GradientMethods.Saliency(model, Input, 0));
        Assert.Contains("black-box", e.Message);
        Assert.Contains("occlusion", e.Message);
    }

    [Fact]
    public void UnknownHookAndTargetAreClearErrors()
    {
        var model = new ToyClassifier();
        var e = Assert.Throws<ArgumentException>(() => GradientMethods.Saliency(model, Input, 0, layer: "blocks.9.hook_resid_pre"));
        Assert.Contains("hook_embed", e.Message);
        var t = Assert.Throws<ArgumentOutOfRangeException>(() => GradientMethods.Saliency(model, Input, 7));
        Assert.Contains("c0, c1, c2", t.Message);
    }

    [Fact]
    public void RolloutRowsSumToOneAndFlowIsBounded()
    {
        var rng = new Random(1);
        float[][][][] patterns = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 4).Select(_ =>
        {
            var row = Enumerable.Range(0, 4).Select(_ => (float)rng.NextDouble()).ToArray();
            float s = row.Sum();
            return row.Select(v => v / s).ToArray();
        }).ToArray()).ToArray()).ToArray();
        var r = AttentionMethods.Rollout(patterns);
        for (int i = 0; i < 4; i++)
        {
            double s = 0;
            for (int j = 0; j < 4; j++) { s += r[i, j]; Assert.True(r[i, j] >= 0); }
            Assert.Equal(1.0, s, 9);
        }
        var flow = AttentionMethods.Flow(patterns, 0);
        Assert.All(flow, f => Assert.InRange(f, 0, 1 + 1e-9));
        Assert.Contains(flow, f => f > 0);
    }

    [Fact]
    public void GaussLegendreMatchesKnownNodes()
    {
        var (x, w) = Quadrature.GaussLegendre(3);
        Assert.Equal(-Math.Sqrt(0.6), x[0], 12); Assert.Equal(0, x[1], 12); Assert.Equal(Math.Sqrt(0.6), x[2], 12);
        Assert.Equal(5.0 / 9, w[0], 12); Assert.Equal(8.0 / 9, w[1], 12);
        foreach (var rule in Enum.GetValues<QuadratureRule>())
        {
            var (a, ww) = Quadrature.Points(rule, 20);
            Assert.Equal(rule == QuadratureRule.RiemannTrapezoid ? 19.0 / 20 : 1.0, ww.Sum(), 9);
            Assert.All(a, v => Assert.InRange(v, 0, 1));
        }
    }
}
