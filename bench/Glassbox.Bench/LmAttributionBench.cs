// Ecco's generate-with-attributions at GPT-2-small shape (12 layers, 768 wide, 12 heads, vocab
// 50257, random weights): greedy generation of 6 tokens after a 20-token prompt, then for every
// generated token integrated gradients on the token embeddings (Ecco's inputs_embeds; 50-step
// Gauss–Legendre, zero baseline, the library's default token-bounded chunks of steps (PyTorch: all
// steps in one batch; the attributions do not depend on it), target = the generated token's softmax
// probability at the last position), and the final forward with the hidden states for the logit
// lens. This is LanguageModelAnalyzer.Generate with Attributions = [IntegratedGradients].
// Twin: bench/pytorch/ecco_ig_gpt2.py (same shapes, same steps). Run each in its own process
// (under /usr/bin/time -v) so the peak memory is its own.
using System.Diagnostics;
using Glassbox.Explain.LanguageModels;
using Glassbox.Models.Architectures;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Bench;

public static class LmAttributionBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, repeats = 1, newTokens = 6, prompt = 20, steps = 50;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i]); break;
                case "--repeats" when i + 1 < args.Length: repeats = int.Parse(args[++i]); break;
                case "--new-tokens" when i + 1 < args.Length: newTokens = int.Parse(args[++i]); break;
                case "--prompt" when i + 1 < args.Length: prompt = int.Parse(args[++i]); break;
                case "--steps" when i + 1 < args.Length: steps = int.Parse(args[++i]); break;
                default: Console.Error.WriteLine($"lm-attribute: unknown option '{args[i]}' (use --threads N --repeats R --new-tokens T --prompt P --steps S)"); return 2;
            }
        }
        Parallelism.ThreadCount = threads;
        var config = (Gpt2Config)ModelConfig.Parse("""{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}""");
        var parameters = new Dictionary<string, Tensor>();
        int seed = 0;
        foreach (var (name, shape) in Gpt2.ExpectedParameters(config))
            parameters[name] = name.Contains("ln_") && name.EndsWith(".weight", StringComparison.Ordinal) ? Tensor.Ones(shape) : Tensor.RandomNormal(shape, seed++, std: 0.02f);
        var analyzer = new LanguageModelAnalyzer(new Gpt2(config, parameters), tokenizer: null);
        var ids = Enumerable.Range(0, prompt).Select(i => 1000 + 37 * i).ToArray();
        var options = new LmGenerateOptions
        {
            MaxNewTokens = newTokens, EosTokenIds = [], Attributions = [LmAttributionMethod.IntegratedGradients], IgSteps = steps, CaptureActivations = false,
        };
        analyzer.Generate(ids, options with { MaxNewTokens = 1, IgSteps = 4 }); // warm-up: every code path once

        var proc = Process.GetCurrentProcess();
        var walls = new List<double>();
        var cpus = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            proc.Refresh();
            var c0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var a = analyzer.Generate(ids, options);
            walls.Add(sw.Elapsed.TotalSeconds);
            proc.Refresh();
            cpus.Add((proc.TotalProcessorTime - c0).TotalSeconds);
            var ig = a.Attributions[LmAttributionMethod.IntegratedGradients];
            if (ig.Count != newTokens || ig.Any(t => !float.IsFinite(t.Normalized.Sum()) || Math.Abs(t.Normalized.Sum() - 1) > 1e-3))
                throw new InvalidOperationException("the attributions are not one normalised row per generated token");
            Console.WriteLine($"  run {r + 1}: wall {walls[^1]:F2} s, CPU {cpus[^1]:F2} s, tokens [{string.Join(", ", a.GeneratedIds)}], " +
                $"max |convergence delta| {ig.Max(t => Math.Abs(t.ConvergenceDelta ?? 0)):E2}");
        }
        proc.Refresh();
        Console.WriteLine($"glassbox lm-attribute gpt2-small shape, prompt {prompt}, {newTokens} new tokens, IG {steps} steps (Gauss-Legendre, default chunks) per token, " +
            $"{threads} thread(s): median wall {Median(walls):F2} s, median CPU {Median(cpus):F2} s, peak working set {proc.PeakWorkingSet64 / 1048576.0:F0} MiB");
        return 0;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s[s.Count / 2];
    }
}
