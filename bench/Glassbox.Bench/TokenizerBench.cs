// Tokenizer encoding throughput on real corpora, the Glassbox side of bench/tokenizers.sh (the
// Rust side is bench/tokenizers-node/bench.mjs; both print the same JSON lines).
//
//   Glassbox.Bench tokenizers [--shared DIR] [--tokenizers bert-base-uncased,gpt2]
//                             [--modes single,batch] [--threads N] [--seconds S]
//
// Corpora: SST-2 train.tsv sentences (header skipped) and Tiny Shakespeare's non-empty lines.
// "single" encodes one sentence at a time on one thread; "batch" encodes batches of 1,024
// sentences with N worker threads (Parallel.For), as Rust's encodeBatch does with its pool.
// MB/s counts UTF-8 bytes of input text, 1 MB = 10^6 bytes. Each measurement repeats whole
// passes over the corpus until S seconds have passed, after a warm-up of about a second.
// cpuSeconds is the process's user + system time over the measurement (all threads, GC and
// JIT included); mbPerCpuSec = MB / cpuSeconds stays meaningful on a shared, busy machine.

using System.Diagnostics;
using System.Text.Json;
using Glassbox.Tokenizers;

namespace Glassbox.Bench;

public static class TokenizerBench
{
    private const int BatchSize = 1024;

    public static int Run(string[] args)
    {
        string? shared = null;
        string[] names = ["bert-base-uncased", "gpt2"];
        string[] modes = ["single", "batch"];
        int threads = Environment.ProcessorCount;
        double seconds = 3;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--shared": shared = Next(); break;
                    case "--tokenizers": names = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                    case "--modes": modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                    case "--threads": threads = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--seconds": seconds = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                    default:
                        Console.Error.WriteLine($"error: unknown option {args[i]}");
                        Console.Error.WriteLine("usage: tokenizers [--shared DIR] [--tokenizers a,b] [--modes single,batch] [--threads N] [--seconds S]");
                        return 2;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        }
        shared ??= FindShared();
        if (shared == null || !Directory.Exists(Path.Combine(shared, "tokenizers")))
        {
            Console.Error.WriteLine("error: cannot find the shared reference folder; pass --shared DIR (the folder holding tokenizers/ and data/).");
            return 2;
        }
        if (threads < 1 || modes.Any(m => m is not ("single" or "batch")))
        {
            Console.Error.WriteLine("error: --threads must be at least 1 and --modes a list of single, batch.");
            return 2;
        }

        var corpora = LoadCorpora(shared);
        foreach (string name in names)
        {
            var tokenizer = Tokenizer.FromFile(Path.Combine(shared, "tokenizers", name, "tokenizer.json"));
            foreach (var (corpus, texts) in corpora)
            {
                long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
                foreach (string mode in modes)
                {
                    Func<long> pass = mode == "single"
                        ? () => EncodeSingle(tokenizer, texts)
                        : () => EncodeBatch(tokenizer, texts, threads);
                    var warm = Stopwatch.StartNew();
                    while (warm.Elapsed.TotalSeconds < 1) EncodeSingle(tokenizer, texts.Take(2000).ToArray());
                    if (mode == "batch") EncodeBatch(tokenizer, texts.Take(4 * BatchSize).ToArray(), threads);

                    int passes = 0;
                    long tokens = 0;
                    var process = Process.GetCurrentProcess();
                    TimeSpan cpu0 = process.TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    do
                    {
                        tokens = pass();
                        passes++;
                    } while (sw.Elapsed.TotalSeconds < seconds);
                    double elapsed = sw.Elapsed.TotalSeconds;
                    process.Refresh();
                    double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        library = "glassbox",
                        tokenizer = name,
                        corpus,
                        mode,
                        threads = mode == "single" ? 1 : threads,
                        sentences = texts.Length,
                        bytes,
                        tokens,
                        passes,
                        seconds = elapsed,
                        mbPerSec = bytes * (double)passes / 1e6 / elapsed,
                        sentencesPerSec = texts.Length * (double)passes / elapsed,
                        cpuSeconds,
                        mbPerCpuSec = bytes * (double)passes / 1e6 / cpuSeconds,
                    }));
                }
            }
        }
        return 0;
    }

    private static long EncodeSingle(Tokenizer tokenizer, string[] texts)
    {
        long tokens = 0;
        foreach (string t in texts) tokens += tokenizer.Encode(t).Length;
        return tokens;
    }

    private static long EncodeBatch(Tokenizer tokenizer, string[] texts, int threads)
    {
        long tokens = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        var counts = new int[BatchSize];
        for (int start = 0; start < texts.Length; start += BatchSize)
        {
            int n = Math.Min(BatchSize, texts.Length - start);
            Parallel.For(0, n, options, i => counts[i] = tokenizer.Encode(texts[start + i]).Length);
            for (int i = 0; i < n; i++) tokens += counts[i];
        }
        return tokens;
    }

    private static List<(string Name, string[] Texts)> LoadCorpora(string shared)
    {
        var sst2 = File.ReadLines(Path.Combine(shared, "data", "sst2", "train.tsv")).Skip(1)
            .Where(l => l.Length > 0).Select(l => l.Split('\t')[0]).ToArray();
        var shakespeare = File.ReadAllText(Path.Combine(shared, "data", "tinyshakespeare", "input.txt")).Split('\n')
            .Where(l => l.Length > 0).ToArray();
        return [("sst2-train", sst2), ("tinyshakespeare-lines", shakespeare)];
    }

    private static string? FindShared()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared");
                if (Directory.Exists(Path.Combine(candidate, "tokenizers"))) return Path.GetFullPath(candidate);
                candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "tokenizers"))) return Path.GetFullPath(candidate);
            }
        }
        return null;
    }
}
