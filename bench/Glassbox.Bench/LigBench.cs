// Layer integrated gradients (50 steps, Gauss–Legendre, the library's default internal batch
// unless --internal-batch is given) on the word embeddings of a DistilBERT-base-shaped classifier
// (6 layers, dim 768, 12 heads, FFN 3072, random weights) for one 32-token input: the workload of
// transformers-interpret's default explainer.
// Twin: bench/pytorch/lig_distilbert.py. Run each in its own process so peak memory is its own.
using System.Diagnostics;
using Glassbox.Explain;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Bench;

public static class LigBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, repeats = 3, steps = 50, tokens = 32;
        int? batch = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i]); break;
                case "--repeats" when i + 1 < args.Length: repeats = int.Parse(args[++i]); break;
                case "--steps" when i + 1 < args.Length: steps = int.Parse(args[++i]); break;
                case "--tokens" when i + 1 < args.Length: tokens = int.Parse(args[++i]); break;
                case "--internal-batch" when i + 1 < args.Length: batch = int.Parse(args[++i]); break;
                default: Console.Error.WriteLine($"lig: unknown option '{args[i]}' (use --threads N --repeats R --steps S --tokens T [--internal-batch B])"); return 2;
            }
        }
        Parallelism.ThreadCount = threads;
        var config = (DistilBertConfig)ModelConfig.Parse("""{"model_type": "distilbert", "architectures": ["DistilBertForSequenceClassification"]}""");
        var expected = DistilBert.ExpectedParameters(config, DistilBertHead.SequenceClassification, 2);
        var parameters = new Dictionary<string, Tensor>();
        int seed = 0;
        foreach (var (name, shape) in expected)
            parameters[name] = name.Contains("layer_norm.weight", StringComparison.OrdinalIgnoreCase) || name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)
                ? Tensor.Ones(shape) : Tensor.RandomNormal(shape, seed++, std: 0.02f);
        var model = new TransformerExplainable(new DistilBert(config, DistilBertHead.SequenceClassification, parameters), "distilbert-base-random", ["NEGATIVE", "POSITIVE"]);
        var rng = new Random(1);
        var ids = new int[tokens];
        ids[0] = 101; ids[^1] = 102;
        for (int i = 1; i < tokens - 1; i++) ids[i] = rng.Next(1000, 30000);
        var baseIds = ids.Select((v, i) => i == 0 || i == tokens - 1 ? v : 0).ToArray();
        var input = ModelInput.Single(ids); var baseline = ModelInput.Single(baseIds);
        GradientMethods.LayerIntegratedGradients(model, input, baseline, 1, "hook_embed", steps, internalBatchSize: batch); // warm-up
        var times = new List<double>();
        var proc = Process.GetCurrentProcess();
        double cpuMs = 0;
        for (int r = 0; r < repeats; r++)
        {
            proc.Refresh(); var c0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var a = GradientMethods.LayerIntegratedGradients(model, input, baseline, 1, "hook_embed", steps, internalBatchSize: batch);
            times.Add(sw.Elapsed.TotalMilliseconds);
            proc.Refresh(); cpuMs += (proc.TotalProcessorTime - c0).TotalMilliseconds;
            if (!double.IsFinite(a.ConvergenceDelta!.Value)) throw new InvalidOperationException("non-finite delta");
        }
        times.Sort();
        proc.Refresh();
        Console.WriteLine($"glassbox lig steps={steps} tokens={tokens} threads={threads}: median {times[times.Count / 2]:F0} ms, best {times[0]:F0} ms, " +
            $"CPU {cpuMs / repeats:F0} ms per explanation, peak working set {proc.PeakWorkingSet64 / 1048576.0:F0} MiB");
        return 0;
    }
}
