// BERT-base encoder forward (12 layers, hidden 768, 12 heads, FFN 3072, random weights), the
// shape the architectures issue measures against PyTorch (bench/pytorch/encoder_forward.py).
using System.Diagnostics;
using Glassbox.Models;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Bench;

public static class EncoderBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, repeats = 10;
        var shapes = new List<(int B, int S)> { (8, 128), (50, 32) };
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i]); break;
                case "--repeats" when i + 1 < args.Length: repeats = int.Parse(args[++i]); break;
                case "--shape" when i + 1 < args.Length:
                    var p = args[++i].Split('x'); shapes = [(int.Parse(p[0]), int.Parse(p[1]))]; break;
                default: Console.Error.WriteLine($"encoder: unknown option '{args[i]}' (use --threads N --repeats R --shape BxS)"); return 2;
            }
        }
        Parallelism.ThreadCount = threads;
        var config = (BertConfig)ModelConfig.Parse("""{"model_type": "bert", "architectures": ["BertModel"]}""");
        var expected = Bert.ExpectedParameters(config, BertHead.None, 2);
        var parameters = new Dictionary<string, Tensor>();
        int seed = 0;
        foreach (var (name, shape) in expected)
            parameters[name] = name.EndsWith("LayerNorm.weight") ? Tensor.Ones(shape) : Tensor.RandomNormal(shape, seed++, std: 0.02f);
        var model = new Bert(config, BertHead.None, parameters);
        Console.WriteLine($"# Glassbox BERT-base encoder forward, {threads} thread(s), median of {repeats}");
        foreach (var (b, s) in shapes)
        {
            var rng = new Random(1);
            var ids = Enumerable.Range(0, b * s).Select(_ => rng.Next(1000, 30000)).ToArray();
            var input = new ModelInput(b, s, ids, Enumerable.Repeat(1, b * s).ToArray());
            for (int w = 0; w < 2; w++) model.Forward(input);
            var times = new List<double>(); var cpu = new List<double>();
            var proc = Process.GetCurrentProcess();
            for (int r = 0; r < repeats; r++)
            {
                proc.Refresh();
                var c0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                model.Forward(input);
                times.Add(sw.Elapsed.TotalMilliseconds);
                proc.Refresh();
                cpu.Add((proc.TotalProcessorTime - c0).TotalMilliseconds);
            }
            times.Sort(); cpu.Sort();
            double med = times[times.Count / 2], cmed = cpu[cpu.Count / 2];
            Console.WriteLine($"glassbox encoder batch={b} seq={s}: median {med:F1} ms, best {times[0]:F1} ms, {b * s / (med / 1000):F0} tokens/s; " +
                $"CPU {cmed:F1} ms (all threads), {b * s / (cmed / 1000):F0} tokens per CPU-second");
        }
        return 0;
    }
}
