// Single-precision GEMM, GotoBLAS/BLIS style. op(B) is packed once, for every KC-deep slice of k,
// into NR-wide micro-panels shared by all threads (kept in L3); then each thread takes a block of
// at most MC rows of C, packs those rows of op(A) into MR-tall micro-panels (kept in L2), and a
// register-blocked micro-kernel multiplies one MR×KC micro-panel of A by one KC×NR micro-panel of
// B (which stays in L1 while the ir loop walks down the A block) into an MR×NR tile of C.
//
// Determinism: every element of C is computed by the same sequence of operations whatever the
// thread count — the k loop is never split, KC boundaries are fixed, tile edges are global (row
// blocks start on MR multiples) and edge tiles run the same micro-kernel into a scratch tile and
// combine with C by the same fused formula. Threads only decide *who* computes a tile, so results
// are bit-identical for 1, 2 or 64 threads (on a given instruction set).
//
// Narrow products (n ≤ DirectAMaxN, A not transposed) skip packing A on AVX-512: the kernel reads
// the 12 rows of A in place, since with few column tiles the packing would not be repaid.
// Small problems (m·n·k below SmallMacs, or a single row/column) skip packing altogether and run
// a direct loop. Both choices depend only on the shape, never on the thread count.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Glassbox.Tensors.Kernels;

/// <summary>Single-precision GEMM on row-major storage: C = alpha·op(A)·op(B) + beta·C.</summary>
/// <remarks>op(A) is m×k, op(B) is k×n, C is m×n. lda/ldb/ldc are row strides of the matrices as
/// stored (for transA, A is stored k×m). Results never depend on the thread count: work is split
/// over rows of C (and over packing of B) only, never over k.</remarks>
public static class Gemm
{
    /// <summary>Route <see cref="Sgemm(bool, bool, int, int, int, float, float*, int, float*, int, float, float*, int)"/>
    /// to OpenBLAS's cblas_sgemm when <see cref="OpenBlasGemm.IsAvailable"/>. Off by default: the
    /// managed kernel is the reference implementation.</summary>
    public static bool UseOpenBlas { get; set; }

    /// <summary>Below this many multiply-adds the direct (unpacked) loop is used.</summary>
    internal const long SmallMacs = 32 * 1024;

    /// <summary>Minimum multiply-adds per extra thread before a single GEMM is split.</summary>
    private const long MacsPerThread = 1L << 20;

    // Cache blocking (floats). KC×NR of B (256×32×4 B = 32 KiB) sits in the 48 KiB L1d,
    // MC×KC of A (240×256×4 B = 240 KiB) in the 1 MiB L2, the packed KC×n slice of B in L3.
    // Fields rather than constants so a benchmark build can sweep them; nothing else writes them.
    // (Measured on Zen 5: KC 256–768 and MC 96–240 are within noise of each other.)
    internal static int KC = 256;
    internal static int MCTarget = 240;

    /// <summary>Widest C (columns) for which the AVX-512 path reads A in place instead of packing
    /// it. Both ways give identical bits; tests set 0 to force packing.</summary>
    internal static int DirectAMaxN = 256;

    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        CheckDims(transA, transB, m, n, k, lda, ldb, ldc);
        if (UseOpenBlas && OpenBlasGemm.IsAvailable && m > 0 && n > 0)
        {
            OpenBlasGemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        Run(BestIsa, Parallelism.ThreadCount, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>Checked span overload: validates sizes and rejects C overlapping A or B.</summary>
    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        CheckDims(transA, transB, m, n, k, lda, ldb, ldc);
        Extents(transA, transB, m, n, k, lda, ldb, ldc, out long lenA, out long lenB, out long lenC);
        CheckSpans(transA, transB, m, n, k, lda, ldb, ldc, a, lenA, b, lenB, c, lenC, 1, 0, 0, 0);
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>Batched GEMM over equally strided matrices (attention: [batch·heads, q, d]).</summary>
    /// <remarks>Small matrices run one per thread across the batch; large ones are split inside.
    /// Either way each matrix gets the same result as a single <c>Sgemm</c> call.</remarks>
    public static unsafe void SgemmStrided(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        if (batch < 0)
            throw new ArgumentOutOfRangeException(nameof(batch), $"SgemmStrided: batch must be non-negative, got {batch}.");
        if (strideA < 0 || strideB < 0 || strideC < 0)
            throw new ArgumentException($"SgemmStrided: strides must be non-negative, got strideA={strideA}, strideB={strideB}, strideC={strideC}.");
        CheckDims(transA, transB, m, n, k, lda, ldb, ldc);
        Extents(transA, transB, m, n, k, lda, ldb, ldc, out long lenA, out long lenB, out long lenC);
        if (batch == 0 || m == 0 || n == 0) return;
        if (batch > 1 && strideC == 0)
            throw new ArgumentException($"SgemmStrided: strideC is 0 with batch={batch}, so every C ({m}×{n}) aliases the same memory.");
        CheckSpans(transA, transB, m, n, k, lda, ldb, ldc, a, lenA, b, lenB, c, lenC, batch, strideA, strideB, strideC);

        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
        {
            if (UseOpenBlas && OpenBlasGemm.IsAvailable)
            {
                for (int i = 0; i < batch; i++)
                    OpenBlasGemm.Sgemm(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc);
                return;
            }
            RunStrided(BestIsa, Parallelism.ThreadCount, batch, transA, transB, m, n, k, alpha,
                pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC);
        }
    }

    // ---------------------------------------------------------------- validation

    private static void CheckDims(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Sgemm: dimensions must be non-negative, got m={m}, n={n}, k={k}.");
        int colsA = transA ? m : k, colsB = transB ? k : n;
        if (lda < Math.Max(1, colsA))
            throw new ArgumentException($"Sgemm: lda={lda} is less than the row width {colsA} of A (stored {(transA ? k : m)}×{colsA}, transA={transA}).", nameof(lda));
        if (ldb < Math.Max(1, colsB))
            throw new ArgumentException($"Sgemm: ldb={ldb} is less than the row width {colsB} of B (stored {(transB ? n : k)}×{colsB}, transB={transB}).", nameof(ldb));
        if (ldc < Math.Max(1, n))
            throw new ArgumentException($"Sgemm: ldc={ldc} is less than the row width {n} of C ({m}×{n}).", nameof(ldc));
    }

    private static void Extents(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc,
        out long lenA, out long lenB, out long lenC)
    {
        static long Len(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        lenA = Len(transA ? k : m, transA ? m : k, lda);
        lenB = Len(transB ? n : k, transB ? k : n, ldb);
        lenC = Len(m, n, ldc);
    }

    private static void CheckSpans(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc,
        ReadOnlySpan<float> a, long lenA, ReadOnlySpan<float> b, long lenB, ReadOnlySpan<float> c, long lenC,
        int batch, long strideA, long strideB, long strideC)
    {
        static long Total(long len, int batch, long stride) => len == 0 ? 0 : (batch - 1) * stride + len;
        long needA = Total(lenA, batch, strideA), needB = Total(lenB, batch, strideB), needC = Total(lenC, batch, strideC);
        string shapes = $"op(A) {m}×{k} (transA={transA}, lda={lda}), op(B) {k}×{n} (transB={transB}, ldb={ldb}), C {m}×{n} (ldc={ldc})"
            + (batch != 1 ? $", batch={batch}, strides A={strideA} B={strideB} C={strideC}" : "");
        if (a.Length < needA)
            throw new ArgumentException($"Sgemm: A has {a.Length} elements but {needA} are needed for {shapes}.", nameof(a));
        if (b.Length < needB)
            throw new ArgumentException($"Sgemm: B has {b.Length} elements but {needB} are needed for {shapes}.", nameof(b));
        if (c.Length < needC)
            throw new ArgumentException($"Sgemm: C has {c.Length} elements but {needC} are needed for {shapes}.", nameof(c));
        if (needC == 0) return;
        var cUsed = c[..(int)needC];
        if (needA > 0 && cUsed.Overlaps(a[..(int)needA]))
            throw new ArgumentException($"Sgemm: C overlaps A (aliasing is not supported) for {shapes}.", nameof(c));
        if (needB > 0 && cUsed.Overlaps(b[..(int)needB]))
            throw new ArgumentException($"Sgemm: C overlaps B (aliasing is not supported) for {shapes}.", nameof(c));
    }

    // ---------------------------------------------------------------- dispatch

    internal enum Isa { Portable = 0, Avx2 = 1, Avx512 = 2 }

    internal static Isa BestIsa { get; } =
        Avx512F.IsSupported ? Isa.Avx512 : Fma.IsSupported && Avx2.IsSupported ? Isa.Avx2 : Isa.Portable;

    /// <summary>Register-block shape and micro-kernel of one instruction set.</summary>
    private readonly unsafe struct Config
    {
        public readonly int MR, NR, MC;
        public readonly Isa Isa;
        public readonly delegate*<int, float*, float*, float*, nint, float, float, void> Kernel;

        public Config(Isa isa, int mr, int nr, delegate*<int, float*, float*, float*, nint, float, float, void> kernel)
        {
            Isa = isa; MR = mr; NR = nr; Kernel = kernel;
            MC = Math.Max(mr, MCTarget / mr * mr);
        }
    }

    private static unsafe Config ConfigFor(Isa isa) => isa switch
    {
        Isa.Avx512 => new Config(Isa.Avx512, 12, 32, &Kernel512),
        Isa.Avx2 => new Config(Isa.Avx2, 6, 16, &Kernel256),
        _ => new Config(Isa.Portable, PortableMR, PortableNR, &KernelPortable),
    };

    /// <summary>Core entry with an explicit instruction set and thread budget (tests use it to
    /// cover every path on one machine and to compare thread counts).</summary>
    internal static unsafe void Run(Isa isa, int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) { ScaleC(m, n, beta, c, ldc); return; }
        if (IsSmall(m, n, k))
        {
            long macs = (long)m * n * k;
            int t = (int)Math.Clamp(macs / MacsPerThread, 1, Math.Max(1, threads));
            if (t == 1) Direct(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            else new DirectJob(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, t).Execute();
            return;
        }
        if (isa > BestIsa) isa = BestIsa;
        var cfg = ConfigFor(isa);
        new Job(cfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc).Execute(threads);
    }

    internal static unsafe void RunStrided(Isa isa, int threads, int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        long macs = (long)m * n * k;
        // Splitting one small matrix over threads costs more in synchronisation than it gains;
        // splitting the batch is free. Above ~8M MACs per matrix the in-matrix split is as good.
        if (threads > 1 && batch > 1 && macs <= (8L << 20))
        {
            int t = Math.Min(threads, batch);
            var sj = new StridedJob(isa, batch, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC);
            Parallel.For(0, t, new ParallelOptions { MaxDegreeOfParallelism = t }, sj.Execute);
            return;
        }
        for (int i = 0; i < batch; i++)
            Run(isa, threads, transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc);
    }

    private sealed unsafe class StridedJob(Isa isa, int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC)
    {
        private readonly nint _a = (nint)a, _b = (nint)b, _c = (nint)c;
        private int _next;

        public void Execute(int t)
        {
            // Matrices are handed out one at a time, so a thread slowed by other processes on a
            // shared machine simply takes fewer; each is computed whole by one thread.
            float* pa = (float*)_a, pb = (float*)_b, pc = (float*)_c;
            for (int i = Interlocked.Increment(ref _next) - 1; i < batch; i = Interlocked.Increment(ref _next) - 1)
                Run(isa, 1, transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc);
        }
    }

    /// <summary>A large single-row (GEMV-like: one token times the LM head) or single-column
    /// product split into column or row chunks; every element is still computed by the same
    /// loop, so the bits do not depend on the split.</summary>
    private sealed unsafe class DirectJob(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads)
    {
        private readonly nint _a = (nint)a, _b = (nint)b, _c = (nint)c;

        public void Execute() =>
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, Chunk);

        private void Chunk(int t)
        {
            float* pa = (float*)_a, pb = (float*)_b, pc = (float*)_c;
            if (m == 1 || n >= m)
            {
                // columns [j0, j1) of C: columns of op(B)
                int j0 = (int)((long)n * t / threads), j1 = (int)((long)n * (t + 1) / threads);
                if (j0 < j1)
                    Direct(transA, transB, m, j1 - j0, k, alpha, pa, lda, pb + (transB ? (long)j0 * ldb : j0), ldb, beta, pc + j0, ldc);
            }
            else
            {
                // rows [i0, i1) of C: rows of op(A)
                int i0 = (int)((long)m * t / threads), i1 = (int)((long)m * (t + 1) / threads);
                if (i0 < i1)
                    Direct(transA, transB, i1 - i0, n, k, alpha, pa + (transA ? i0 : (long)i0 * lda), lda, pb, ldb, beta, pc + (long)i0 * ldc, ldc);
            }
        }
    }

    internal static bool IsSmall(int m, int n, int k) => (long)m * n * k < SmallMacs || m == 1 || n == 1;

    private static unsafe void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) for (int j = 0; j < row.Length; j++) row[j] *= beta;
        }
    }

    // ---------------------------------------------------------------- direct path (small / thin)

    /// <summary>Unpacked loops for small or single-row/column products. Row of C at a time:
    /// for op(B) = B the row is an axpy sweep over rows of B (vectorised over n); for op(B) = Bᵀ
    /// every element is a dot product of two contiguous rows when A is not transposed.</summary>
    private static unsafe void Direct(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        int vw = Vector<float>.Count;
        for (int i = 0; i < m; i++)
        {
            float* crow = c + (long)i * ldc;
            if (!transB)
            {
                if (beta == 0) new Span<float>(crow, n).Clear();
                else if (beta != 1) for (int j = 0; j < n; j++) crow[j] *= beta;
                for (int p = 0; p < k; p++)
                {
                    float s = alpha * (transA ? a[(long)p * lda + i] : a[(long)i * lda + p]);
                    float* brow = b + (long)p * ldb;
                    var vs = new Vector<float>(s);
                    int j = 0;
                    for (; j <= n - vw; j += vw)
                        Unsafe.WriteUnaligned(crow + j, Unsafe.ReadUnaligned<Vector<float>>(crow + j) + vs * Unsafe.ReadUnaligned<Vector<float>>(brow + j));
                    for (; j < n; j++) crow[j] += s * brow[j];
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    float* brow = b + (long)j * ldb;
                    float s;
                    if (!transA)
                    {
                        float* arow = a + (long)i * lda;
                        var acc = Vector<float>.Zero;
                        int p = 0;
                        for (; p <= k - vw; p += vw)
                            acc += Unsafe.ReadUnaligned<Vector<float>>(arow + p) * Unsafe.ReadUnaligned<Vector<float>>(brow + p);
                        s = Vector.Sum(acc);
                        for (; p < k; p++) s += arow[p] * brow[p];
                    }
                    else
                    {
                        s = 0;
                        for (int p = 0; p < k; p++) s += a[(long)p * lda + i] * brow[p];
                    }
                    crow[j] = beta == 0 ? alpha * s : alpha * s + beta * crow[j];
                }
            }
        }
    }

    // ---------------------------------------------------------------- blocked path

    /// <summary>Smallest row block a thread claims when several share a GEMM: every block re-reads
    /// all of packed B (from L3 once it outgrows L2), so blocks stay at least m / (2·threads) rows
    /// (at most MC), which still lets a thread that got its core back take more of the work.</summary>
    internal static int MinRowBlock(int m, int threads, int mr, int mc)
    {
        int even = (m + 2 * threads - 1) / (2 * threads);
        return Math.Clamp((even + mr - 1) / mr * mr, 2 * mr, mc);
    }

    /// <summary>One blocked GEMM. For each column block of C (all of it unless k·n is huge):
    /// phase 1 packs op(B) for every KC slice into a buffer shared by the threads (work handed out
    /// one micro-panel at a time), phase 2 hands out row ranges of C (guided: large first, down to
    /// <see cref="MinRowBlock"/> rows at the end, so a thread slowed by a noisy neighbour is caught up
    /// by the others) and each thread packs its rows of op(A) and runs the micro-kernel over the whole
    /// column block. Nothing is packed twice; which thread does what never changes the arithmetic.</summary>
    private sealed unsafe class Job
    {
        private readonly Config _cfg;
        private readonly bool _transA, _transB;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc, _kc;
        private readonly float _alpha, _beta;
        private readonly nint _a, _b, _c;
        private int _threads;

        // Current column block and its packed B (k × ncPadded floats, KC slices one after another).
        private int _jc, _nc, _ncPadded;
        private nint _packedB;
        private int _nextPanel, _nextRow;

        /// <summary>Packed-B budget per GEMM, in floats (12 MiB): bounds memory for huge k·n.</summary>
        private const long PackedBBudget = 3L << 20;

        public Job(Config cfg, bool transA, bool transB, int m, int n, int k, float alpha,
            float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        {
            _cfg = cfg; _transA = transA; _transB = transB; _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = (nint)a; _b = (nint)b; _c = (nint)c; _lda = lda; _ldb = ldb; _ldc = ldc; _kc = KC;
            // Packing A pays for itself only when each packed value is reused over many column
            // tiles; with few columns (attention's P·V and Q·Kᵀ, skinny outputs) read A in place.
            // Not when rows are 4 KiB apart: all 12 rows would fall into one L1 set.
            _directA = !transA && cfg.Isa == Isa.Avx512 && n <= DirectAMaxN && lda % 1024 != 0;
        }

        private readonly bool _directA;

        public void Execute(int threads)
        {
            long macs = (long)_m * _n * _k;
            _threads = (int)Math.Clamp(macs / MacsPerThread, 1, Math.Max(1, threads));
            int NR = _cfg.NR;
            int nPanels = (_n + NR - 1) / NR;
            int maxPanels = (int)Math.Max(1, PackedBBudget / ((long)_k * NR));
            int blocks = (nPanels + maxPanels - 1) / maxPanels;
            int panelsPerBlock = (nPanels + blocks - 1) / blocks;
            var own = PackBuffers.ForCurrentThread(_cfg.MC * _kc, (long)_k * panelsPerBlock * NR);
            _packedB = (nint)own.B;
            for (int jc = 0; jc < _n; jc += panelsPerBlock * NR)
            {
                _jc = jc;
                _nc = Math.Min(panelsPerBlock * NR, _n - jc);
                _ncPadded = (_nc + NR - 1) / NR * NR;
                _nextPanel = 0;
                _nextRow = 0;
                if (_threads == 1)
                {
                    PackWorker(0);
                    ComputeWorker(0);
                }
                else
                {
                    var options = new ParallelOptions { MaxDegreeOfParallelism = _threads };
                    Parallel.For(0, _threads, options, PackWorker);
                    Parallel.For(0, _threads, options, ComputeWorker);
                }
            }
        }

        /// <summary>Phase 1: claim (KC slice, micro-panel) items until none are left.</summary>
        private void PackWorker(int _)
        {
            int NR = _cfg.NR;
            int panels = _ncPadded / NR;
            int slices = (_k + _kc - 1) / _kc;
            int items = panels * slices;
            float* b = (float*)_b, packed = (float*)_packedB;
            for (int item = Interlocked.Increment(ref _nextPanel) - 1; item < items; item = Interlocked.Increment(ref _nextPanel) - 1)
            {
                int q = item / panels, j = item % panels;
                int pc = q * _kc, kc = Math.Min(_kc, _k - pc);
                float* dst = packed + (long)pc * _ncPadded + (long)j * NR * kc;
                PackB(NR, _transB, b, _ldb, pc, _jc + j * NR, kc, Math.Min(NR, _nc - j * NR), dst);
            }
        }

        /// <summary>Phase 2: claim row ranges (multiples of MR, at most MC) until C is done.</summary>
        private void ComputeWorker(int _)
        {
            int MR = _cfg.MR;
            var buf = PackBuffers.ForCurrentThread(_cfg.MC * _kc, 0);
            int minRows = _threads == 1 ? _cfg.MC : MinRowBlock(_m, _threads, MR, _cfg.MC);
            while (true)
            {
                int r0 = Volatile.Read(ref _nextRow);
                if (r0 >= _m) return;
                int want = (_m - r0 + 2 * _threads - 1) / (2 * _threads);
                want = Math.Clamp((want + MR - 1) / MR * MR, minRows, _cfg.MC);
                int r1 = Math.Min(_m, r0 + want);
                if (Interlocked.CompareExchange(ref _nextRow, r1, r0) != r0) continue;
                Rows(buf, r0, r1);
            }
        }

        private void Rows(PackBuffers buf, int r0, int r1)
        {
            int MR = _cfg.MR, NR = _cfg.NR;
            int mc = r1 - r0;
            float* pa = buf.A, tile = buf.Tile;
            float* a = (float*)_a, c = (float*)_c, packed = (float*)_packedB;
            var kernel = _cfg.Kernel;
            for (int pc = 0; pc < _k; pc += _kc)
            {
                int kc = Math.Min(_kc, _k - pc);
                float beta = pc == 0 ? _beta : 1f;
                // Direct A: full register tiles read A in place; only a trailing partial tile is packed.
                int fullRows = _directA ? mc / MR * MR : 0;
                if (fullRows < mc) PackA(MR, _transA, a, _lda, r0 + fullRows, pc, mc - fullRows, kc, pa);
                float* pbSlice = packed + (long)pc * _ncPadded;
                // The next B micro-panel comes from L3; spread prefetches for it over this
                // panel's kernel calls so the first call on it does not wait on L3 latency.
                int panelBytes = kc * NR * sizeof(float);
                int prefetchStep = Math.Max(64, (panelBytes / ((mc + MR - 1) / MR) + 63) & ~63);
                for (int jr = 0; jr < _nc; jr += NR)
                {
                    int nr = Math.Min(NR, _nc - jr);
                    float* bp = pbSlice + (long)jr * kc;
                    byte* next = (byte*)(bp + (long)NR * kc);
                    int prefetched = jr + NR < _nc ? 0 : panelBytes;
                    for (int ir = 0; ir < mc; ir += MR)
                    {
                        int mr = Math.Min(MR, mc - ir);
                        if (Sse.IsSupported)
                            for (int end = Math.Min(panelBytes, prefetched + prefetchStep); prefetched < end; prefetched += 64)
                                Sse.Prefetch1(next + prefetched);
                        bool rowsA = ir < fullRows;
                        float* ap = rowsA ? a + (long)(r0 + ir) * _lda + pc : pa + (long)(ir - fullRows) * kc;
                        float* ct = c + (long)(r0 + ir) * _ldc + _jc + jr;
                        if (mr == MR && nr == NR)
                        {
                            if (rowsA) Kernel512RowsA(kc, ap, _lda, bp, ct, _ldc, _alpha, beta);
                            else kernel(kc, ap, bp, ct, _ldc, _alpha, beta);
                        }
                        else
                        {
                            // Edge tile: the same kernel into scratch (alpha=1, beta=0 stores the
                            // raw sums exactly), then the same combine as the kernel's store.
                            if (rowsA) Kernel512RowsA(kc, ap, _lda, bp, tile, NR, 1f, 0f);
                            else kernel(kc, ap, bp, tile, NR, 1f, 0f);
                            for (int i = 0; i < mr; i++)
                                for (int j = 0; j < nr; j++)
                                {
                                    float* cij = ct + (long)i * _ldc + j;
                                    float acc = tile[i * NR + j];
                                    *cij = beta == 0 ? _alpha * acc : MathF.FusedMultiplyAdd(acc, _alpha, beta * *cij);
                                }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into MR-tall micro-panels: panel r holds, for
    /// each p, the MR values op(A)[i0+r·MR .. +MR, p] contiguously; rows past mc are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackA(int MR, bool transA, float* a, int lda, int i0, int p0, int mc, int kc, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += MR)
        {
            int rows = Math.Min(MR, mc - r0);
            if (!transA && rows == MR && MR % 4 == 0 && Sse.IsSupported)
            {
                // A is m×k: 4 rows at a time, 4×4 transposes turn 4 row vectors into 4 k-steps.
                for (int g = 0; g < MR; g += 4)
                {
                    float* s0 = a + (long)(i0 + r0 + g) * lda + p0, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
                    float* d = dst + g;
                    int p = 0;
                    for (; p <= kc - 4; p += 4)
                    {
                        if ((p & 15) == 0)
                        {
                            Sse.Prefetch0(s0 + p + 64); Sse.Prefetch0(s1 + p + 64);
                            Sse.Prefetch0(s2 + p + 64); Sse.Prefetch0(s3 + p + 64);
                        }
                        var x0 = Sse.LoadVector128(s0 + p);
                        var x1 = Sse.LoadVector128(s1 + p);
                        var x2 = Sse.LoadVector128(s2 + p);
                        var x3 = Sse.LoadVector128(s3 + p);
                        var t0 = Sse.UnpackLow(x0, x1);
                        var t1 = Sse.UnpackLow(x2, x3);
                        var t2 = Sse.UnpackHigh(x0, x1);
                        var t3 = Sse.UnpackHigh(x2, x3);
                        Sse.Store(d + (p + 0) * MR, Sse.MoveLowToHigh(t0, t1));
                        Sse.Store(d + (p + 1) * MR, Sse.MoveHighToLow(t1, t0));
                        Sse.Store(d + (p + 2) * MR, Sse.MoveLowToHigh(t2, t3));
                        Sse.Store(d + (p + 3) * MR, Sse.MoveHighToLow(t3, t2));
                    }
                    for (; p < kc; p++)
                    {
                        d[p * MR] = s0[p]; d[p * MR + 1] = s1[p]; d[p * MR + 2] = s2[p]; d[p * MR + 3] = s3[p];
                    }
                }
            }
            else if (!transA)
            {
                // A is m×k: read `rows` rows side by side, write interleaved.
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (long)(i0 + r0 + r) * lda + p0;
                    float* d = dst + r;
                    for (int p = 0; p < kc; p++) d[p * MR] = src[p];
                }
            }
            else
            {
                // A is k×m: each p is a contiguous run of `rows` values.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + r0;
                    float* d = dst + p * MR;
                    int r = 0;
                    for (; r <= rows - 4; r += 4) Vector128.Store(Vector128.Load(src + r), d + r);
                    for (; r < rows; r++) d[r] = src[r];
                }
            }
            if (rows < MR)
                for (int p = 0; p < kc; p++)
                    for (int r = rows; r < MR; r++) dst[p * MR + r] = 0;
            dst += MR * kc;
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into NR-wide micro-panels: panel j holds, for
    /// each p, op(B)[p, j0+j·NR .. +NR] contiguously; columns past nc are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackB(int NR, bool transB, float* b, int ldb, int p0, int j0, int kc, int nc, float* dst)
    {
        for (int c0 = 0; c0 < nc; c0 += NR)
        {
            int cols = Math.Min(NR, nc - c0);
            if (!transB)
            {
                // B is k×n: each p is a contiguous run.
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + c0;
                    float* d = dst + p * NR;
                    if (Sse.IsSupported)
                    {
                        // Rows ldb apart: prefetch the row 8 steps ahead (the stride defeats
                        // the hardware prefetcher when ldb is large).
                        Sse.Prefetch0(src + 8L * ldb);
                        Sse.Prefetch0(src + 8L * ldb + cols - 1);
                    }
                    int j = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; j <= cols - 8; j += 8)
                            Vector256.Store(Vector256.Load(src + j), d + j);
                    for (; j <= cols - 4; j += 4)
                        Vector128.Store(Vector128.Load(src + j), d + j);
                    for (; j < cols; j++) d[j] = src[j];
                }
            }
            else if (cols == NR && NR % 8 == 0 && Avx.IsSupported)
            {
                PackBTransposed8(NR, b, ldb, p0, j0 + c0, kc, dst);
                dst += NR * kc;
                continue;
            }
            else
            {
                // B is n×k: column j of op(B) is row j of B.
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(j0 + c0 + j) * ldb + p0;
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++) d[p * NR] = src[p];
                }
            }
            if (cols < NR)
                for (int p = 0; p < kc; p++)
                    for (int j = cols; j < NR; j++) dst[p * NR + j] = 0;
            dst += NR * kc;
        }
    }

    /// <summary>Transposed-B packing with 8×8 AVX transposes (nn.Linear's x·Wᵀ is the common case).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackBTransposed8(int NR, float* b, int ldb, int p0, int j0, int kc, float* dst)
    {
        // p-outer so each source row is read a cache line at a time across all NR rows; NR row
        // streams are more than the hardware prefetcher follows, so prefetch 4 lines ahead.
        float* s0 = b + (long)j0 * ldb + p0;
        int p = 0;
        for (; p <= kc - 8; p += 8)
        {
            if ((p & 15) == 0 && Sse.IsSupported)
                for (int j = 0; j < NR; j++) Sse.Prefetch0(s0 + (long)j * ldb + p + 64);
            for (int jb = 0; jb < NR; jb += 8)
            {
                float* s = s0 + (long)jb * ldb + p;
                var r0 = Avx.LoadVector256(s);
                var r1 = Avx.LoadVector256(s + ldb);
                var r2 = Avx.LoadVector256(s + 2 * (long)ldb);
                var r3 = Avx.LoadVector256(s + 3 * (long)ldb);
                var r4 = Avx.LoadVector256(s + 4 * (long)ldb);
                var r5 = Avx.LoadVector256(s + 5 * (long)ldb);
                var r6 = Avx.LoadVector256(s + 6 * (long)ldb);
                var r7 = Avx.LoadVector256(s + 7 * (long)ldb);
                // Standard 8×8 transpose: unpack pairs, shuffle quads, swap 128-bit halves.
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
                var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
                var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
                var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
                var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
                var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
                float* d = dst + (long)p * NR + jb;
                Avx.Store(d + 0 * NR, Avx.Permute2x128(u0, u4, 0x20));
                Avx.Store(d + 1 * NR, Avx.Permute2x128(u1, u5, 0x20));
                Avx.Store(d + 2 * NR, Avx.Permute2x128(u2, u6, 0x20));
                Avx.Store(d + 3 * NR, Avx.Permute2x128(u3, u7, 0x20));
                Avx.Store(d + 4 * NR, Avx.Permute2x128(u0, u4, 0x31));
                Avx.Store(d + 5 * NR, Avx.Permute2x128(u1, u5, 0x31));
                Avx.Store(d + 6 * NR, Avx.Permute2x128(u2, u6, 0x31));
                Avx.Store(d + 7 * NR, Avx.Permute2x128(u3, u7, 0x31));
            }
        }
        for (; p < kc; p++)
            for (int j = 0; j < NR; j++)
                dst[(long)p * NR + j] = s0[(long)j * ldb + p];
    }

    // ---------------------------------------------------------------- micro-kernels
    // Contract: c[i·ldc + j] = beta == 0 ? alpha·acc : fma(acc, alpha, beta·c) for the MR×NR tile,
    // acc = Σ_p a[p·MR + i]·b[p·NR + j] accumulated with FMA in p order.

    /// <summary>12×32 AVX-512 kernel: 24 zmm accumulators, 2 B loads and 12 broadcasts per k step.
    /// 24 independent FMA chains cover Zen 4/5 and Skylake-X latency×throughput (4×2) with room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Kernel512(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        // C is touched only after the k loop; fetch its 24 lines now so the misses (C rarely
        // stays cached between KC slices) overlap the arithmetic instead of stalling the stores.
        if (Sse.IsSupported)
            for (int r = 0; r < 12; r++)
            {
                Sse.Prefetch0(c + r * ldc);
                Sse.Prefetch0(c + r * ldc + 16);
            }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> x;
            x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(a[11]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
            a += 12;
            b += 32;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool over = beta == 0;
        Store512(c, c00, c01, va, vb, over); c += ldc;
        Store512(c, c10, c11, va, vb, over); c += ldc;
        Store512(c, c20, c21, va, vb, over); c += ldc;
        Store512(c, c30, c31, va, vb, over); c += ldc;
        Store512(c, c40, c41, va, vb, over); c += ldc;
        Store512(c, c50, c51, va, vb, over); c += ldc;
        Store512(c, c60, c61, va, vb, over); c += ldc;
        Store512(c, c70, c71, va, vb, over); c += ldc;
        Store512(c, c80, c81, va, vb, over); c += ldc;
        Store512(c, c90, c91, va, vb, over); c += ldc;
        Store512(c, ca0, ca1, va, vb, over); c += ldc;
        Store512(c, cb0, cb1, va, vb, over);
    }

    /// <summary>Kernel512 reading A straight from its rows (stride lda) instead of a packed
    /// micro-panel: same values, same order, so the same bits; used when A's reuse is too low
    /// for packing to pay (few columns of C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Kernel512RowsA(int kc, float* a, nint lda, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        float* a0 = a, a4 = a + 4 * lda, a8 = a + 8 * lda;
        nint l2 = 2 * lda, l3 = 3 * lda;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> x;
            x = Vector512.Create(a0[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a0[lda]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a0[l2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a0[l3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[0]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a4[lda]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a4[l2]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a4[l3]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a8[0]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a8[lda]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a8[l2]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(a8[l3]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
            a0++; a4++; a8++;
            b += 32;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool over = beta == 0;
        Store512(c, c00, c01, va, vb, over); c += ldc;
        Store512(c, c10, c11, va, vb, over); c += ldc;
        Store512(c, c20, c21, va, vb, over); c += ldc;
        Store512(c, c30, c31, va, vb, over); c += ldc;
        Store512(c, c40, c41, va, vb, over); c += ldc;
        Store512(c, c50, c51, va, vb, over); c += ldc;
        Store512(c, c60, c61, va, vb, over); c += ldc;
        Store512(c, c70, c71, va, vb, over); c += ldc;
        Store512(c, c80, c81, va, vb, over); c += ldc;
        Store512(c, c90, c91, va, vb, over); c += ldc;
        Store512(c, ca0, ca1, va, vb, over); c += ldc;
        Store512(c, cb0, cb1, va, vb, over);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store512(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> va, Vector512<float> vb, bool overwrite)
    {
        if (overwrite)
        {
            Vector512.Store(x0 * va, c);
            Vector512.Store(x1 * va, c + 16);
        }
        else
        {
            Vector512.Store(Avx512F.FusedMultiplyAdd(x0, va, Vector512.Load(c) * vb), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16) * vb), c + 16);
        }
    }

    /// <summary>6×16 AVX2+FMA kernel: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel256(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            Vector256<float> x;
            x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            a += 6;
            b += 16;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool over = beta == 0;
        Store256(c, c00, c01, va, vb, over); c += ldc;
        Store256(c, c10, c11, va, vb, over); c += ldc;
        Store256(c, c20, c21, va, vb, over); c += ldc;
        Store256(c, c30, c31, va, vb, over); c += ldc;
        Store256(c, c40, c41, va, vb, over); c += ldc;
        Store256(c, c50, c51, va, vb, over);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store256(float* c, Vector256<float> x0, Vector256<float> x1, Vector256<float> va, Vector256<float> vb, bool overwrite)
    {
        if (overwrite)
        {
            Vector256.Store(x0 * va, c);
            Vector256.Store(x1 * va, c + 8);
        }
        else
        {
            Vector256.Store(Fma.MultiplyAdd(x0, va, Vector256.Load(c) * vb), c);
            Vector256.Store(Fma.MultiplyAdd(x1, va, Vector256.Load(c + 8) * vb), c + 8);
        }
    }

    // Portable kernel: 4 rows × 2 Vector<float> (Vector<T> is 128- or 256-bit wherever .NET runs).
    private const int PortableMR = 4;
    private static int PortableNR => 2 * Vector<float>.Count;

    private static unsafe void KernelPortable(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        int w = Vector<float>.Count, nr = 2 * w;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Unsafe.ReadUnaligned<Vector<float>>(b);
            var b1 = Unsafe.ReadUnaligned<Vector<float>>(b + w);
            var x = new Vector<float>(a[0]); c00 += x * b0; c01 += x * b1;
            x = new Vector<float>(a[1]); c10 += x * b0; c11 += x * b1;
            x = new Vector<float>(a[2]); c20 += x * b0; c21 += x * b1;
            x = new Vector<float>(a[3]); c30 += x * b0; c31 += x * b1;
            a += PortableMR;
            b += nr;
        }
        Span<float> acc = stackalloc float[PortableMR * 2 * Vector<float>.Count];
        c00.CopyTo(acc); c01.CopyTo(acc[w..]);
        c10.CopyTo(acc[(2 * w)..]); c11.CopyTo(acc[(3 * w)..]);
        c20.CopyTo(acc[(4 * w)..]); c21.CopyTo(acc[(5 * w)..]);
        c30.CopyTo(acc[(6 * w)..]); c31.CopyTo(acc[(7 * w)..]);
        for (int i = 0; i < PortableMR; i++)
            for (int j = 0; j < nr; j++)
            {
                float* cij = c + i * ldc + j;
                float s = acc[i * nr + j];
                *cij = beta == 0 ? alpha * s : MathF.FusedMultiplyAdd(s, alpha, beta * *cij);
            }
    }

    // ---------------------------------------------------------------- per-thread packing buffers

    /// <summary>64-byte-aligned native packing buffers owned by one thread, allocated once at the
    /// largest size any configuration needs and freed when the thread (and this object) dies.</summary>
    private sealed unsafe class PackBuffers
    {
        [ThreadStatic] private static PackBuffers? t_current;

        public float* A, B;
        public readonly float* Tile;
        private long _aCap, _bCap;

        private PackBuffers() => Tile = (float*)NativeMemory.AlignedAlloc(32 * 64 * sizeof(float), 64);

        /// <summary>This thread's buffers, grown (never shrunk) to hold the requested floats.</summary>
        public static PackBuffers ForCurrentThread(long aFloats, long bFloats)
        {
            var p = t_current ??= new PackBuffers();
            if (p._aCap < aFloats) Grow(ref p.A, ref p._aCap, aFloats);
            if (p._bCap < bFloats) Grow(ref p.B, ref p._bCap, bFloats);
            return p;
        }

        private static void Grow(ref float* buf, ref long cap, long floats)
        {
            NativeMemory.AlignedFree(buf);
            buf = null; cap = 0;
            buf = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
            cap = floats;
        }

        ~PackBuffers()
        {
            NativeMemory.AlignedFree(A);
            NativeMemory.AlignedFree(B);
            NativeMemory.AlignedFree(Tile);
        }
    }
}
