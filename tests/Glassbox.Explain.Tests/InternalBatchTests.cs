// Layer IG runs its interpolation steps in chunks (Captum's internal_batch_size); by default the
// chunk is bounded by token count. Chunking must not change the result: each step's gradient is
// computed row by row whatever the batch, and the steps are summed in the same order.
using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Models.Configs;

namespace Glassbox.Explain.Tests;

public class InternalBatchTests
{
    private static readonly Lazy<TransformerExplainable> s_model = new(() =>
    {
        var dir = Shared.Model("distilbert-sst2-tiny");
        var model = AutoModel.FromPretrained(dir);
        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        return new TransformerExplainable(model, dir, config.Id2Label);
    });

    [Theory]
    [InlineData(50, 32, 13)]    // at most 16 steps of 32 tokens: 4 even chunks (13, 13, 13, 11)
    [InlineData(50, 8, 50)]     // 64 steps fit: one batch
    [InlineData(50, 512, 1)]    // one step is already the budget
    [InlineData(50, 4000, 1)]   // longer than the budget: still one step at a time
    [InlineData(20, 100, 5)]    // at most 5 steps of 100 tokens: 4 chunks of 5
    [InlineData(7, 1, 7)]
    [InlineData(1, 32, 1)]
    public void DefaultInternalBatchIsBoundedByTokens(int steps, int seqLength, int expected)
    {
        Assert.Equal(expected, GradientMethods.DefaultInternalBatchSize(steps, seqLength));
        int chunk = GradientMethods.DefaultInternalBatchSize(steps, seqLength);
        Assert.True(chunk * seqLength <= GradientMethods.DefaultTokensPerBatch || chunk == 1);
    }

    [Fact]
    public void ChunkedLayerIgEqualsOneBatch()
    {
        var model = s_model.Value;
        // 120 tokens: the default runs 4 steps per forward (512 / 120), 13 chunks for 50 steps.
        var ids = new int[120];
        var rng = new Random(3);
        ids[0] = 101; ids[^1] = 102;
        for (int i = 1; i < ids.Length - 1; i++) ids[i] = rng.Next(1000, 5000);
        var baseIds = ids.Select((v, i) => i == 0 || i == ids.Length - 1 ? v : 0).ToArray();
        var input = ModelInput.Single(ids); var baseline = ModelInput.Single(baseIds);
        Assert.Equal(4, GradientMethods.DefaultInternalBatchSize(50, ids.Length));

        var whole = GradientMethods.LayerIntegratedGradients(model, input, baseline, 1, internalBatchSize: 50);
        var byDefault = GradientMethods.LayerIntegratedGradients(model, input, baseline, 1);
        var odd = GradientMethods.LayerIntegratedGradients(model, input, baseline, 1, internalBatchSize: 7);
        foreach (var other in new[] { byDefault, odd })
        {
            Assert.Equal(whole.Raw.Length, other.Raw.Length);
            double scale = whole.Raw.Max(v => Math.Abs((double)v));
            for (int i = 0; i < whole.Raw.Length; i++)
                Assert.True(Math.Abs(whole.Raw[i] - other.Raw[i]) <= 1e-6 * scale, $"element {i}: one batch {whole.Raw[i]}, chunked {other.Raw[i]}");
            Assert.Equal(whole.ConvergenceDelta!.Value, other.ConvergenceDelta!.Value, 6);
        }
    }
}
