// Greedy generation at GPT-2-small shape (12 layers, 768 wide, 12 heads, vocab 50257, random
// weights) with the KV cache: tokens per second after a 16-token prompt.
// Twin: bench/pytorch/generation_gpt2.py (same shapes, same cached greedy loop).
using System.Diagnostics;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Models.Generation;
using Glassbox.Tensors;

namespace Glassbox.Bench;

public static class GenerationBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, repeats = 3, newTokens = 32, prompt = 16;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i]); break;
                case "--repeats" when i + 1 < args.Length: repeats = int.Parse(args[++i]); break;
                case "--new-tokens" when i + 1 < args.Length: newTokens = int.Parse(args[++i]); break;
                default: Console.Error.WriteLine($"generate: unknown option '{args[i]}' (use --threads N --repeats R --new-tokens T)"); return 2;
            }
        }
        Parallelism.ThreadCount = threads;
        var config = (Gpt2Config)ModelConfig.Parse("""{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}""");
        var parameters = new Dictionary<string, Tensor>();
        int seed = 0;
        foreach (var (name, shape) in Gpt2.ExpectedParameters(config))
            parameters[name] = name.Contains("ln_") && name.EndsWith(".weight", StringComparison.Ordinal) ? Tensor.Ones(shape) : Tensor.RandomNormal(shape, seed++, std: 0.02f);
        var model = new Gpt2(config, parameters);
        var ids = Enumerable.Range(0, prompt).Select(i => 1000 + 37 * i).ToArray();
        var options = new GenerationOptions { MaxNewTokens = newTokens, EosTokenIds = [] };
        Generator.Generate(model, ids, options with { MaxNewTokens = 4 }); // warm-up
        var rates = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            var result = Generator.Generate(model, ids, options);
            rates.Add(result.GeneratedIds.Length / sw.Elapsed.TotalSeconds);
        }
        rates.Sort();
        Console.WriteLine($"glassbox generate gpt2-small shape, prompt {prompt}, {newTokens} new tokens, KV cache, {threads} thread(s): median {rates[rates.Count / 2]:F1} tokens/s, best {rates[^1]:F1} tokens/s");
        return 0;
    }
}
