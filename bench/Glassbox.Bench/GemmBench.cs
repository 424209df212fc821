// `gemm` verb: SGEMM throughput of the managed kernel against OpenBLAS (same process, same
// thread count, same buffers) and against the machine's FMA peak (a register-only FMA loop on
// every thread). Each number is the median of several timed samples taken after warm-up; the two
// providers alternate sample by sample so background load hits both alike. Besides wall-clock
// GFLOP/s the table shows the best sample and GFLOP per CPU-second (flops ÷ CPU time of all
// threads), which stays meaningful when other processes share the cores.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Glassbox.Tensors;
using Glassbox.Tensors.Kernels;

namespace Glassbox.Bench;

internal static unsafe class GemmBench
{
    private sealed record Shape(string Name, int Batch, bool TransA, bool TransB, int M, int N, int K);

    private static readonly Shape[] s_shapes =
    [
        new("linear  x·Wᵀ  1024×768×768", 1, false, true, 1024, 768, 768),
        new("linear  x·Wᵀ  1024×3072×768", 1, false, true, 1024, 3072, 768),
        new("linear  x·Wᵀ  1024×768×3072", 1, false, true, 1024, 768, 3072),
        new("linear  x·Wᵀ  128×768×768", 1, false, true, 128, 768, 768),
        new("linear  x·Wᵀ  128×3072×768", 1, false, true, 128, 3072, 768),
        new("plain   A·B   1024×768×768", 1, false, false, 1024, 768, 768),
        new("plain   A·B   1024×3072×768", 1, false, false, 1024, 3072, 768),
        new("grad    Aᵀ·B  768×768×1024", 1, true, false, 768, 768, 1024),
        new("attn P·V  96×(128×64×128)", 96, false, false, 128, 64, 128),
        new("attn Q·Kᵀ 96×(128×128×64)", 96, false, true, 128, 128, 64),
        new("square      256×256×256", 1, false, false, 256, 256, 256),
        new("square      2048×2048×2048", 1, false, false, 2048, 2048, 2048),
    ];

    public static int Run(string[] args)
    {
        int threads = Parallelism.ThreadCount, repeats = 9;
        bool openBlas = true;
        string? filter = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out int t) && t >= 1: threads = t; i++; break;
                case "--repeats" when i + 1 < args.Length && int.TryParse(args[i + 1], out int r) && r >= 1: repeats = r; i++; break;
                case "--shapes" when i + 1 < args.Length: filter = args[++i]; break;
                case "--no-openblas": openBlas = false; break;
                default:
                    Console.Error.WriteLine($"gemm: unknown or incomplete option '{args[i]}'");
                    return 2;
            }
        }
        Parallelism.ThreadCount = threads;
        openBlas &= OpenBlasGemm.IsAvailable;

        Console.WriteLine($"SGEMM benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"CPU: {CpuModel()}, {Environment.ProcessorCount} logical cores; AVX-512F={Avx512F.IsSupported}, FMA={Fma.IsSupported}");
        Console.WriteLine($".NET {Environment.Version}; threads={threads}; median of {repeats} samples (each ≥ 50 ms) after warm-up");
        Console.WriteLine(openBlas
            ? $"OpenBLAS: {OpenBlasGemm.Config} (core: {OpenBlasGemm.CoreName})"
            : OpenBlasGemm.IsAvailable ? "OpenBLAS: disabled (--no-openblas)" : "OpenBLAS: not installed (apt-get install libopenblas0)");
        Console.WriteLine($"load average: {LoadAverage()}");

        var (peak, peakCpu) = MeasurePeak(threads, repeats);
        Console.WriteLine($"FMA peak ({(Avx512F.IsSupported ? "zmm" : "ymm")} FMA loop × {threads} threads): {peak,8:F1} GFLOP/s; {peakCpu:F1} GFLOP per CPU-second");
        Console.WriteLine();
        Console.WriteLine($"{"",-30} {"median GFLOP/s",-37}   {"best sample",-19}   {"per CPU-second",-19}");
        Console.WriteLine($"{"shape (M×N×K)",-30} {"managed",9} {"OpenBLAS",9} {"mgd/OB",7} {"mgd/peak",8}   {"managed",9} {"OpenBLAS",9}   {"managed",9} {"OpenBLAS",9}");

        foreach (var s in s_shapes)
        {
            if (filter != null && !s.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            var r = MeasureShape(s, repeats, openBlas);
            string B(double x) => openBlas ? $"{x,9:F1}" : $"{"-",9}";
            string ratio = openBlas ? $"{r.Managed / r.Blas,7:F2}" : $"{"-",7}";
            Console.WriteLine($"{s.Name,-30} {r.Managed,9:F1} {B(r.Blas)} {ratio} {r.CpuManaged / peakCpu,8:P0}   {r.BestManaged,9:F1} {B(r.BestBlas)}   {r.CpuManaged,9:F1} {B(r.CpuBlas)}"
                + (openBlas && r.MaxRelDiff > 1e-4 ? $"   MISMATCH rel {r.MaxRelDiff:E1}" : ""));
        }
        Console.WriteLine();
        Console.WriteLine($"load average: {LoadAverage()}");
        return 0;
    }

    private readonly record struct Result(double Managed, double Blas, double BestManaged, double BestBlas, double CpuManaged, double CpuBlas, double MaxRelDiff);

    private static Result MeasureShape(Shape s, int repeats, bool openBlas)
    {
        long lenA = (long)s.M * s.K, lenB = (long)s.K * s.N, lenC = (long)s.M * s.N;
        float* a = Alloc(lenA * s.Batch), b = Alloc(lenB * s.Batch), c = Alloc(lenC * s.Batch), c2 = Alloc(lenC * s.Batch);
        try
        {
            var rng = new Random(42);
            for (long i = 0; i < lenA * s.Batch; i++) a[i] = rng.NextSingle() * 2 - 1;
            for (long i = 0; i < lenB * s.Batch; i++) b[i] = rng.NextSingle() * 2 - 1;
            int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N, ldc = s.N;
            double flops = 2.0 * s.M * s.N * s.K * s.Batch;

            void Managed()
            {
                if (s.Batch == 1) Gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, lda, b, ldb, 0f, c, ldc);
                else Gemm.SgemmStrided(s.Batch, s.TransA, s.TransB, s.M, s.N, s.K, 1f,
                    new ReadOnlySpan<float>(a, (int)(lenA * s.Batch)), lda, lenA,
                    new ReadOnlySpan<float>(b, (int)(lenB * s.Batch)), ldb, lenB, 0f,
                    new Span<float>(c, (int)(lenC * s.Batch)), ldc, lenC);
            }
            void Blas()
            {
                for (int i = 0; i < s.Batch; i++)
                    OpenBlasGemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a + i * lenA, lda, b + i * lenB, ldb, 0f, c2 + i * lenC, ldc);
            }

            int itManaged = Calibrate(Managed, flops);
            int itBlas = openBlas ? Calibrate(Blas, flops) : 0;
            var tm = new double[repeats];
            var tb = new double[repeats];
            var cm = new double[repeats];
            var cb = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                (tm[r], cm[r]) = Sample(Managed, itManaged);
                if (openBlas) (tb[r], cb[r]) = Sample(Blas, itBlas);
            }
            double diff = 0;
            if (openBlas)
            {
                double scale = 0;
                for (long i = 0; i < lenC * s.Batch; i++) scale = Math.Max(scale, Math.Abs(c2[i]));
                for (long i = 0; i < lenC * s.Batch; i++) diff = Math.Max(diff, Math.Abs(c[i] - c2[i]) / Math.Max(scale, 1e-30));
            }
            return new Result(flops / Median(tm) / 1e9, openBlas ? flops / Median(tb) / 1e9 : 0,
                flops / tm.Min() / 1e9, openBlas ? flops / tb.Min() / 1e9 : 0,
                flops / Median(cm) / 1e9, openBlas ? flops / Median(cb) / 1e9 : 0, diff);
        }
        finally
        {
            NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(b); NativeMemory.AlignedFree(c); NativeMemory.AlignedFree(c2);
        }
    }

    // mgd/peak compares GFLOP per CPU-second with the FMA loop's, so it stays meaningful when the
    // cores are shared (on an idle machine it equals the wall-clock ratio).

    /// <summary>Warms up, then returns how many calls make a sample of at least 50 ms.</summary>
    private static int Calibrate(Action op, double flops)
    {
        for (int i = 0; i < 3; i++) op();
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.Elapsed.TotalMilliseconds < 50) { op(); n++; }
        return Math.Max(1, n);
    }

    /// <summary>Wall seconds and process CPU seconds per call, averaged over one sample of
    /// <paramref name="iterations"/> calls. CPU time (all threads) shows what the kernel would do
    /// on an otherwise idle core when the machine is shared; it counts spin-waiting as work.</summary>
    private static (double Wall, double Cpu) Sample(Action op, int iterations)
    {
        var proc = Process.GetCurrentProcess();
        proc.Refresh();
        var cpu0 = proc.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) op();
        double wall = sw.Elapsed.TotalSeconds / iterations;
        proc.Refresh();
        return (wall, (proc.TotalProcessorTime - cpu0).TotalSeconds / iterations);
    }

    private static double Median(double[] x)
    {
        var s = (double[])x.Clone();
        Array.Sort(s);
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static float* Alloc(long count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, count) * sizeof(float)), 64);
        new Span<float>(p, (int)count).Clear();
        return p;
    }

    // ---------------------------------------------------------------- FMA peak

    /// <summary>Every thread runs independent FMA chains on registers only (16 chains cover
    /// latency × issue width on current x86 cores); the median over samples is reported.</summary>
    private static (double Wall, double PerCpuSecond) MeasurePeak(int threads, int repeats)
    {
        const long iters = 20_000_000;
        int lanes = Avx512F.IsSupported ? 16 : Fma.IsSupported ? 8 : 0;
        if (lanes == 0) return (double.NaN, double.NaN);
        double flopsPerThread = iters * 16.0 * lanes * 2;
        for (int w = 0; w < 2; w++) FmaLoop(iters / 10, lanes);
        var samples = new double[repeats];
        var cpuSamples = new double[repeats];
        var proc = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            var sink = new float[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() => { start.SignalAndWait(); sink[id] = FmaLoop(iters, lanes); }) { IsBackground = true };
                workers[t].Start();
            }
            proc.Refresh();
            var cpu0 = proc.TotalProcessorTime;
            start.SignalAndWait();
            var sw = Stopwatch.StartNew();
            foreach (var th in workers) th.Join();
            samples[r] = flopsPerThread * threads / sw.Elapsed.TotalSeconds / 1e9;
            proc.Refresh();
            cpuSamples[r] = flopsPerThread * threads / (proc.TotalProcessorTime - cpu0).TotalSeconds / 1e9;
        }
        return (Median(samples), Median(cpuSamples));
    }

    private static float FmaLoop(long iters, int lanes) => lanes == 16 ? FmaLoop512(iters) : FmaLoop256(iters);

    private static float FmaLoop512(long iters)
    {
        var x = Vector512.Create(0.9999999f);
        var y = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector512<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, x, y); a1 = Avx512F.FusedMultiplyAdd(a1, x, y);
            a2 = Avx512F.FusedMultiplyAdd(a2, x, y); a3 = Avx512F.FusedMultiplyAdd(a3, x, y);
            a4 = Avx512F.FusedMultiplyAdd(a4, x, y); a5 = Avx512F.FusedMultiplyAdd(a5, x, y);
            a6 = Avx512F.FusedMultiplyAdd(a6, x, y); a7 = Avx512F.FusedMultiplyAdd(a7, x, y);
            a8 = Avx512F.FusedMultiplyAdd(a8, x, y); a9 = Avx512F.FusedMultiplyAdd(a9, x, y);
            a10 = Avx512F.FusedMultiplyAdd(a10, x, y); a11 = Avx512F.FusedMultiplyAdd(a11, x, y);
            a12 = Avx512F.FusedMultiplyAdd(a12, x, y); a13 = Avx512F.FusedMultiplyAdd(a13, x, y);
            a14 = Avx512F.FusedMultiplyAdd(a14, x, y); a15 = Avx512F.FusedMultiplyAdd(a15, x, y);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector512.Sum(s);
    }

    private static float FmaLoop256(long iters)
    {
        var x = Vector256.Create(0.9999999f);
        var y = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector256<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Fma.MultiplyAdd(a0, x, y); a1 = Fma.MultiplyAdd(a1, x, y);
            a2 = Fma.MultiplyAdd(a2, x, y); a3 = Fma.MultiplyAdd(a3, x, y);
            a4 = Fma.MultiplyAdd(a4, x, y); a5 = Fma.MultiplyAdd(a5, x, y);
            a6 = Fma.MultiplyAdd(a6, x, y); a7 = Fma.MultiplyAdd(a7, x, y);
            a8 = Fma.MultiplyAdd(a8, x, y); a9 = Fma.MultiplyAdd(a9, x, y);
            a10 = Fma.MultiplyAdd(a10, x, y); a11 = Fma.MultiplyAdd(a11, x, y);
            a12 = Fma.MultiplyAdd(a12, x, y); a13 = Fma.MultiplyAdd(a13, x, y);
            a14 = Fma.MultiplyAdd(a14, x, y); a15 = Fma.MultiplyAdd(a15, x, y);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15));
        return Vector256.Sum(s);
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "n/a"; }
        catch (UnauthorizedAccessException) { return "n/a"; }
    }
}
