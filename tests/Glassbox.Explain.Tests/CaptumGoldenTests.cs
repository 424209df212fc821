// Captum's own numbers (float64) on the trained DistilBERT SST-2 model: every quadrature at 20
// and 50 steps, IG on inputs_embeds, saliency, input×gradient, feature ablation, raw attention
// and rollout. Tolerances from the explainers issue: normalised scores 1e-3 absolute, raw
// per-token sums 1e-4 relative, convergence deltas 1e-4.
using System.Text.Json;
using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Models.Configs;

namespace Glassbox.Explain.Tests;

public class CaptumGoldenTests
{
    private static readonly Lazy<TransformerExplainable> s_model = new(() =>
    {
        var dir = Shared.Model("distilbert-sst2-tiny");
        var model = AutoModel.FromPretrained(dir);
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        return new TransformerExplainable(model, dir, config.Id2Label);
    });

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Shared.Golden("captum/distilbert-sst2.json")));
        int n = doc.RootElement.GetProperty("cases").GetArrayLength();
        return Enumerable.Range(0, n).Select(i => new object[] { i });
    }

    private static double[] D(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static int[] I(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void Close(string what, double[] expected, float[] actual, double atol, double rtol = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]), $"{what} [{i}]: Captum {expected[i]}, Glassbox {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesCaptum(int caseIndex)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Shared.Golden("captum/distilbert-sst2.json")));
        var c = doc.RootElement.GetProperty("cases")[caseIndex];
        var model = s_model.Value;
        var ids = I(c.GetProperty("input_ids"));
        var input = ModelInput.Single(ids);
        var baseline = ModelInput.Single(I(c.GetProperty("baseline_ids")));
        var probs = model.Predict(input).ToArray();
        Close("probabilities", D(c.GetProperty("probabilities")), probs, 1e-5);
        Assert.Equal(c.GetProperty("predicted").GetInt32(), Array.IndexOf(probs, probs.Max()));
        int checkedMethods = 0;
        foreach (var m in c.GetProperty("methods").EnumerateArray())
        {
            int target = m.GetProperty("target").GetInt32();
            string method = m.GetProperty("method").GetString()!;
            string label = $"case {caseIndex} {method} target {target}";
            switch (method)
            {
                case "layer_integrated_gradients":
                case "integrated_gradients":
                {
                    var rule = Quadrature.Parse(m.GetProperty("quadrature").GetString()!);
                    int steps = m.GetProperty("n_steps").GetInt32();
                    label += $" {Quadrature.Name(rule)} {steps}";
                    var a = GradientMethods.LayerIntegratedGradients(model, input, baseline, target, "hook_embed", steps, rule);
                    var sum = a.SumLastDim();
                    Close(label + " per_dim_sum", D(m.GetProperty("per_dim_sum")), sum, 1e-6, 1e-4);
                    Close(label + " normalized", D(m.GetProperty("normalized")), LayerAttribution.Normalize(sum), 1e-3);
                    Assert.True(Math.Abs(m.GetProperty("convergence_delta").GetDouble() - a.ConvergenceDelta!.Value) <= 1e-4,
                        $"{label} delta: Captum {m.GetProperty("convergence_delta").GetDouble()}, Glassbox {a.ConvergenceDelta}");
                    break;
                }
                case "saliency":
                {
                    var a = GradientMethods.Saliency(model, input, target);
                    Close(label + " per_token_l2", D(m.GetProperty("per_token_l2")), a.L2LastDim(), 1e-6, 1e-4);
                    Close(label + " per_dim_sum", D(m.GetProperty("per_dim_sum")), a.SumLastDim(), 1e-6, 1e-4);
                    Close(label + " per_token_max", D(m.GetProperty("per_token_max")), a.MaxLastDim(), 1e-6, 1e-4);
                    break;
                }
                case "input_x_gradient":
                {
                    var a = GradientMethods.InputXGradient(model, input, target);
                    Close(label + " per_dim_sum", D(m.GetProperty("per_dim_sum")), a.SumLastDim(), 1e-6, 1e-4);
                    Close(label + " per_token_l2", D(m.GetProperty("per_token_l2")), a.L2LastDim(), 1e-6, 1e-4);
                    break;
                }
                case "feature_ablation":
                {
                    var a = PerturbationMethods.FeatureAblation(model, input, target, m.GetProperty("baseline_id").GetInt32());
                    Close(label + " per_token", D(m.GetProperty("per_token")), a, 1e-5, 1e-4);
                    break;
                }
                default:
                    throw new InvalidOperationException($"golden has a method this test does not know: {method}");
            }
            checkedMethods++;
        }
        Assert.Equal(30, checkedMethods);

        var patterns = AttentionMethods.Patterns(model, input);
        var att = c.GetProperty("attention").EnumerateArray().ToArray();
        Assert.Equal(att.Length, patterns.Length);
        for (int l = 0; l < att.Length; l++)
            for (int h = 0; h < patterns[l].Length; h++)
                for (int q = 0; q < ids.Length; q++)
                    Close($"attention[{l}][{h}][{q}]", D(att[l][h][q]), patterns[l][h][q], 1e-4);
        var roll = AttentionMethods.Rollout(patterns);
        var gm = c.GetProperty("rollout").GetProperty("matrix").EnumerateArray().ToArray();
        for (int q = 0; q < ids.Length; q++)
            Close($"rollout[{q}]", D(gm[q]), Enumerable.Range(0, ids.Length).Select(k => (float)roll[q, k]).ToArray(), 1e-4);
    }
}

internal static class Shared
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "golden")) && Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException("../shared (with golden/ and models/) was not found above the test binaries; CI places it beside the repository.");
    });

    public static string Model(string name) => Path.Combine(s_root.Value, "models", name);
    public static string Golden(string relative) => Path.Combine(s_root.Value, "golden", relative);
}
