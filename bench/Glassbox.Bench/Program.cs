// Benchmark driver: one verb per benchmark family.
//   dotnet run -c Release --project bench/Glassbox.Bench -- <verb> [options]
// Add a verb by adding a case to the switch below and a line to Usage.
using Glassbox.Bench;

return args.Length == 0 ? Usage(null) : args[0] switch
{
    "gemm" => GemmBench.Run(args[1..]),
    "encoder" => EncoderBench.Run(args[1..]),
    "lig" => LigBench.Run(args[1..]),
    "generate" => GenerationBench.Run(args[1..]),
    "lm-attribute" => LmAttributionBench.Run(args[1..]),
    "tokenizers" => TokenizerBench.Run(args[1..]),
    "demo-first-prediction" => DemoFirstPredictionBench.Run(args[1..]),
    "-h" or "--help" or "help" => Usage(null),
    _ => Usage($"unknown verb '{args[0]}'"),
};

static int Usage(string? error)
{
    if (error != null) Console.Error.WriteLine($"error: {error}");
    var w = error != null ? Console.Error : Console.Out;
    w.WriteLine("usage: Glassbox.Bench <verb> [options]");
    w.WriteLine();
    w.WriteLine("verbs:");
    w.WriteLine("  gemm [--threads N] [--repeats R] [--shapes LIST] [--no-openblas]");
    w.WriteLine("        SGEMM GFLOP/s: managed kernel vs OpenBLAS (if libopenblas.so.0 is installed) vs FMA peak");
    w.WriteLine("  encoder [--threads N] [--repeats R] [--shape BxS]");
    w.WriteLine("        BERT-base encoder forward (random weights); twin: python3 bench/pytorch/encoder_forward.py");
    w.WriteLine("  lig [--threads N] [--repeats R] [--steps S] [--tokens T] [--internal-batch B]");
    w.WriteLine("        layer IG on a DistilBERT-base-shaped classifier; twin: python3 bench/pytorch/lig_distilbert.py");
    w.WriteLine("  generate [--threads N] [--repeats R] [--new-tokens T]");
    w.WriteLine("        greedy generation tokens/s at GPT-2-small shape; twin: python3 bench/pytorch/generation_gpt2.py");
    w.WriteLine("  lm-attribute [--threads N] [--repeats R] [--new-tokens T] [--prompt P] [--steps S]");
    w.WriteLine("        Ecco: greedy generation + IG attributions per generated token at GPT-2-small shape; twin: python3 bench/pytorch/ecco_ig_gpt2.py");
    w.WriteLine("  tokenizers [options]   encoding throughput (see bench/tokenizers.sh for the Rust comparison)");
    w.WriteLine("  demo-first-prediction [--runs N] [--glassbox PATH/glassbox.dll] [--chromium /usr/bin/chromium]");
    w.WriteLine("        glassbox demo as a fresh process, page opened in headless Chromium: seconds from navigation to the first prediction");
    return error != null ? 2 : 0;
}
