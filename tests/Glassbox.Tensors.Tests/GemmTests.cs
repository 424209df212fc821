// Gemm against its naive scalar twin (double accumulation), on every instruction-set path the
// machine has, all four transpose combinations, sizes 0..257 (dense at small sizes, primes, block
// edges), alpha/beta variants, padded leading dimensions and strided batches; plus determinism
// across runs and thread counts, argument validation and the optional OpenBLAS provider.
using Glassbox.Tensors.Kernels;

namespace Glassbox.Tensors.Tests;

public sealed unsafe class GemmTests
{
    private static readonly Gemm.Isa[] s_isas = AvailableIsas();

    private static Gemm.Isa[] AvailableIsas()
    {
        var list = new List<Gemm.Isa>();
        for (var isa = Gemm.Isa.Portable; isa <= Gemm.BestIsa; isa++) list.Add(isa);
        return [.. list];
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C in double, plus the error scale Σ|a||b| per element.</summary>
    private static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc, double[] expect, double[] scale)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += x * y;
                    abs += Math.Abs(x * y);
                }
                double cv = beta == 0 ? 0 : beta * (double)c[i * ldc + j];
                expect[i * ldc + j] = alpha * s + cv;
                scale[i * ldc + j] = Math.Abs(alpha) * abs + Math.Abs(cv);
            }
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }

    /// <summary>Runs one case through <c>Gemm.Run</c> with an explicit ISA and thread count and
    /// checks every element of C, including that padding columns are untouched.</summary>
    private static void Check(Gemm.Isa isa, int threads, bool transA, bool transB, int m, int n, int k,
        float alpha, float beta, int padA, int padB, int padC, int seed)
    {
        var rng = new Random(seed);
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        lda = Math.Max(lda, 1); ldb = Math.Max(ldb, 1); ldc = Math.Max(ldc, 1);
        var a = Random(rng, (transA ? k : m) * lda);
        var b = Random(rng, (transB ? n : k) * ldb);
        var c = Random(rng, m * ldc);
        var c0 = (float[])c.Clone();
        if (beta == 0) Array.Fill(c, float.NaN); // beta = 0 must overwrite, never read
        var expect = new double[c.Length];
        var scale = new double[c.Length];
        Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, expect, scale);

        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Gemm.Run(isa, threads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int idx = i * ldc + j;
                double diff = Math.Abs(c[idx] - expect[idx]);
                if (!(diff <= 1e-4 * scale[idx] + 1e-6))
                    Assert.Fail($"{isa} t={threads} transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta} " +
                        $"lda={lda} ldb={ldb} ldc={ldc}: C[{i},{j}]={c[idx]} expected {expect[idx]} (scale {scale[idx]})");
            }
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
            {
                int idx = i * ldc + j;
                bool same = beta == 0 ? float.IsNaN(c[idx]) : c[idx] == c0[idx];
                Assert.True(same, $"{isa} m={m} n={n} k={k}: padding C[{i},{j}] was written");
            }
        }
    }

    private static readonly (bool, bool)[] s_trans = [(false, false), (false, true), (true, false), (true, true)];

    [Fact]
    public void DenseSmallSizes_AllTransposes()
    {
        // Every m, n, k in 0..9: exercises the direct path, k = 0 and m/n = 0.
        int seed = 1;
        foreach (var (ta, tb) in s_trans)
            for (int m = 0; m <= 9; m++)
                for (int n = 0; n <= 9; n++)
                    for (int k = 0; k <= 9; k++)
                        Check(Gemm.BestIsa, 1, ta, tb, m, n, k, 1f, 0f, 0, 0, 0, seed++);
    }

    [Fact]
    public void EverySize0To257_InEachDimension()
    {
        // Each of m, n, k swept over every value 0..257 with the other two fixed at odd sizes,
        // cycling transposes and ISAs; crosses the direct/packed threshold and every tile edge.
        int seed = 100;
        for (int s = 0; s <= 257; s++)
        {
            var (ta, tb) = s_trans[s % 4];
            var isa = s_isas[s % s_isas.Length];
            Check(isa, 2, ta, tb, s, 37, 29, 1f, 0f, 0, 0, 0, seed++);
            Check(isa, 2, tb, ta, 29, s, 37, 1f, 0.5f, 1, 0, 2, seed++);
            Check(isa, 2, ta, !tb, 37, 29, s, -2f, 0f, 0, 3, 0, seed++);
        }
    }

    public static TheoryData<int, int, int> BlockedShapes()
    {
        // Primes, 1×n, n×1, register-tile edges (MR 4/6/12, NR 8/16/32), the KC = 256 edge,
        // the MC = 240 edge, and the largest required size 257. All large enough (m·n·k ≥ 32k)
        // for the packed path unless m or n is 1.
        var data = new TheoryData<int, int, int>
        {
            { 1, 257, 200 }, { 257, 1, 200 }, { 1, 1, 257 }, { 2, 257, 131 }, { 257, 2, 131 },
            { 12, 32, 256 }, { 13, 33, 257 }, { 11, 31, 255 }, { 24, 64, 128 }, { 6, 16, 512 },
            { 239, 37, 9 }, { 240, 41, 7 }, { 241, 43, 5 }, { 37, 239, 11 }, { 97, 101, 103 },
            { 127, 129, 64 }, { 128, 64, 128 }, { 64, 128, 129 }, { 200, 3, 100 }, { 3, 200, 100 },
            { 257, 257, 257 }, { 256, 255, 33 }, { 61, 67, 71 }, { 5, 7, 1031 }, { 33, 1, 1500 },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(BlockedShapes))]
    public void BlockedShapes_AllIsasAndTransposes(int m, int n, int k)
    {
        int seed = m * 1_000_003 + n * 1009 + k;
        foreach (var isa in s_isas)
            foreach (var (ta, tb) in s_trans)
                Check(isa, 2, ta, tb, m, n, k, 1f, 0f, 0, 0, 0, seed++);
    }

    [Fact]
    public void RandomShapes_AlphaBetaAndLeadingDims()
    {
        var rng = new Random(7);
        int[] sizes = [1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 47, 64, 65, 96, 127, 128, 129, 191, 256, 257];
        (float alpha, float beta)[] ab = [(1f, 0f), (2.5f, -0.5f), (1f, 1f), (-1f, 0.25f), (0f, 0.5f), (0.5f, 0f)];
        for (int trial = 0; trial < 80; trial++)
        {
            int m = sizes[rng.Next(sizes.Length)], n = sizes[rng.Next(sizes.Length)], k = sizes[rng.Next(sizes.Length)];
            if ((long)m * n * k > 2_000_000) { k = Math.Max(1, k / 4); }
            var (ta, tb) = s_trans[trial % 4];
            var (alpha, beta) = ab[rng.Next(ab.Length)];
            var isa = s_isas[rng.Next(s_isas.Length)];
            Check(isa, 1 + rng.Next(3), ta, tb, m, n, k, alpha, beta, rng.Next(4), rng.Next(4), rng.Next(4), trial);
        }
    }

    [Fact]
    public void ZeroK_ScalesC_And_ZeroMOrN_DoesNothing()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Sgemm(false, false, 2, 3, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 3, 0.5f, c, 3);
        Assert.Equal([0.5f, 1, 1.5f, 2, 2.5f, 3], c);
        Gemm.Sgemm(false, false, 2, 3, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 3, 0f, c, 3);
        Assert.Equal(new float[6], c);
        var d = new float[] { 7, 8 };
        Gemm.Sgemm(false, false, 0, 2, 5, 1f, ReadOnlySpan<float>.Empty, 5, new float[10], 2, 0f, d, 2);
        Gemm.Sgemm(false, false, 2, 0, 5, 1f, new float[10], 5, ReadOnlySpan<float>.Empty, 1, 0f, d, 1);
        Assert.Equal([7f, 8f], d);
    }

    [Fact]
    public void PublicOverloads_MatchReference()
    {
        var rng = new Random(11);
        foreach (var (ta, tb) in s_trans)
        {
            int m = 70, n = 90, k = 110;
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var c = Random(rng, m * n);
            var expect = new double[c.Length];
            var scale = new double[c.Length];
            Reference(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, c, n, expect, scale);
            Gemm.Sgemm(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, c, n);
            for (int i = 0; i < c.Length; i++)
                Assert.True(Math.Abs(c[i] - expect[i]) <= 1e-4 * scale[i] + 1e-6, $"transA={ta} transB={tb} C[{i}]={c[i]} expected {expect[i]}");
        }
    }

    [Theory]
    [InlineData(416, 2, 108)]   // a 13-step layer-IG chunk of 32 tokens: 4 blocks, not 9 shrinking ones
    [InlineData(1600, 2, 240)]  // capped at MC
    [InlineData(30, 2, 24)]     // never below two register tiles
    [InlineData(416, 4, 60)]
    public void RowBlocksStayLargeEnoughToReusePackedB(int m, int threads, int expected)
    {
        Assert.Equal(expected, Gemm.MinRowBlock(m, threads, 12, 240));
        Assert.Equal(0, Gemm.MinRowBlock(m, threads, 12, 240) % 12);
    }

    [Fact]
    public void LayerIgShapedProductsMatchTheReferenceOnEveryThreadCount()
    {
        // The products of one layer-IG chunk (416 rows) through nn.Linear (x·Wᵀ) and its input
        // gradient (g·W); 416 is not a multiple of the 12-row tile, so the last block has an edge.
        foreach (var isa in s_isas)
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Check(isa, threads, false, true, 416, 96, 80, 1f, 0f, 0, 0, 0, 11);
                Check(isa, threads, false, false, 416, 80, 96, 1f, 1f, 0, 0, 0, 12);
            }
        var rng = new Random(7);
        var a = Random(rng, 416 * 64); var b = Random(rng, 192 * 64);
        float[] Product(int threads)
        {
            var c = new float[416 * 192];
            fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                Gemm.Run(Gemm.BestIsa, threads, false, true, 416, 192, 64, 1f, pa, 64, pb, 64, 0f, pc, 192);
            return c;
        }
        Assert.Equal(Product(1), Product(2));
        Assert.Equal(Product(1), Product(4));
    }

    [Theory]
    [InlineData(1, false, false, 40, 30, 50)]
    [InlineData(5, false, true, 37, 29, 41)]
    [InlineData(3, true, false, 3, 5, 7)]
    [InlineData(8, false, false, 128, 64, 128)]
    [InlineData(8, false, true, 128, 128, 64)]
    [InlineData(4, true, true, 65, 33, 17)]
    public void Strided_MatchesPerMatrixReference(int batch, bool ta, bool tb, int m, int n, int k)
    {
        var rng = new Random(batch * 31 + m);
        int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
        long sA = (long)(ta ? k : m) * lda + 5, sB = (long)(tb ? n : k) * ldb + 1, sC = (long)m * ldc + 7;
        var a = Random(rng, (int)(sA * batch));
        var b = Random(rng, (int)(sB * batch));
        var c = Random(rng, (int)(sC * batch));
        var c0 = (float[])c.Clone();
        Gemm.SgemmStrided(batch, ta, tb, m, n, k, 0.75f, a, lda, sA, b, ldb, sB, -1f, c, ldc, sC);
        for (int q = 0; q < batch; q++)
        {
            var aq = a.AsSpan((int)(q * sA), (int)sA).ToArray();
            var bq = b.AsSpan((int)(q * sB), (int)sB).ToArray();
            var cq = c0.AsSpan((int)(q * sC), (int)sC).ToArray();
            var expect = new double[cq.Length];
            var scale = new double[cq.Length];
            Reference(ta, tb, m, n, k, 0.75f, aq, lda, bq, ldb, -1f, cq, ldc, expect, scale);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < ldc; j++)
                {
                    float got = c[q * sC + i * ldc + j];
                    if (j >= n) { Assert.Equal(cq[i * ldc + j], got); continue; }
                    Assert.True(Math.Abs(got - expect[i * ldc + j]) <= 1e-4 * scale[i * ldc + j] + 1e-6,
                        $"batch {q} C[{i},{j}]={got} expected {expect[i * ldc + j]}");
                }
            // gaps between matrices untouched
            for (long g = q * sC + (long)m * ldc; g < (q + 1) * sC && g < c.Length; g++)
                Assert.Equal(c0[g], c[g]);
        }
    }

    [Fact]
    public void Strided_InterleavedHeads_SameAsSeparateCalls()
    {
        // [seq, heads·d] layout: head h of C is the column block h·d..(h+1)·d, strideC = d.
        int heads = 4, seq = 96, d = 32;
        var rng = new Random(3);
        var q = Random(rng, seq * heads * d);
        var kk = Random(rng, seq * heads * d);
        var scores = new float[heads * seq * seq];
        var v = Random(rng, seq * heads * d);
        var ctx = new float[seq * heads * d];
        Gemm.SgemmStrided(heads, false, true, seq, seq, d, 0.125f, q, heads * d, d, kk, heads * d, d, 0f, scores, seq, (long)seq * seq);
        Gemm.SgemmStrided(heads, false, false, seq, d, seq, 1f, scores, seq, (long)seq * seq, v, heads * d, d, 0f, ctx, heads * d, d);
        var ctx2 = new float[ctx.Length];
        var s2 = new float[seq * seq];
        for (int h = 0; h < heads; h++)
        {
            Gemm.Sgemm(false, true, seq, seq, d, 0.125f, q.AsSpan(h * d), heads * d, kk.AsSpan(h * d), heads * d, 0f, s2, seq);
            Assert.Equal(scores.AsSpan(h * seq * seq, seq * seq).ToArray(), s2);
            Gemm.Sgemm(false, false, seq, d, seq, 1f, s2, seq, v.AsSpan(h * d), heads * d, 0f, ctx2.AsSpan(h * d), heads * d);
        }
        Assert.Equal(ctx2, ctx);
    }

    [Fact]
    public void Deterministic_RunToRun_And_AcrossThreadCounts()
    {
        var rng = new Random(5);
        int m = 300, n = 270, k = 520;
        foreach (var (ta, tb) in s_trans)
        {
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var c = Random(rng, m * n);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 2, 3, 4 })
            {
                var r = (float[])c.Clone();
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pr = r)
                    Gemm.Run(Gemm.BestIsa, threads, ta, tb, m, n, k, 0.5f, pa, ta ? m : k, pb, tb ? k : n, 2f, pr, n);
                if (first == null) first = r;
                else Assert.True(first.AsSpan().SequenceEqual(r), $"transA={ta} transB={tb}: {threads} threads differ from 1 thread");
            }
        }
    }

    [Theory]
    [InlineData(1, 3001, 700)]
    [InlineData(2003, 1, 900)]
    public void SingleRowOrColumn_Large_SplitAcrossThreads(int m, int n, int k)
    {
        // GEMV-shaped products take the direct loop, split over threads: same bits as 1 thread.
        var rng = new Random(m + n);
        foreach (var (ta, tb) in s_trans)
        {
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var c = Random(rng, m * n);
            var one = (float[])c.Clone();
            var two = (float[])c.Clone();
            fixed (float* pa = a) fixed (float* pb = b)
            {
                fixed (float* pc = one) Gemm.Run(Gemm.BestIsa, 1, ta, tb, m, n, k, 1f, pa, ta ? m : k, pb, tb ? k : n, 0.5f, pc, n);
                fixed (float* pc = two) Gemm.Run(Gemm.BestIsa, 2, ta, tb, m, n, k, 1f, pa, ta ? m : k, pb, tb ? k : n, 0.5f, pc, n);
            }
            Assert.True(one.AsSpan().SequenceEqual(two), $"transA={ta} transB={tb}: 2 threads differ from 1");
            Check(Gemm.BestIsa, 2, ta, tb, m, n, k, -1f, 0.5f, 0, 0, 0, m * 7 + n);
        }
    }

    [Fact]
    public void DirectA_And_PackedA_GiveIdenticalBits()
    {
        // The AVX-512 path reads A in place for narrow C; packing must not change a single bit.
        if (Gemm.BestIsa != Gemm.Isa.Avx512) return;
        var rng = new Random(21);
        int saved = Gemm.DirectAMaxN;
        try
        {
            foreach (var (m, n, k) in new[] { (128, 64, 128), (131, 200, 300), (37, 256, 513) })
            {
                var a = Random(rng, m * (k + 3));
                var b = Random(rng, k * n);
                var c = Random(rng, m * n);
                var direct = (float[])c.Clone();
                var packed = (float[])c.Clone();
                fixed (float* pa = a) fixed (float* pb = b)
                {
                    Gemm.DirectAMaxN = int.MaxValue;
                    fixed (float* pc = direct) Gemm.Run(Gemm.Isa.Avx512, 2, false, false, m, n, k, 1.25f, pa, k + 3, pb, n, 0.5f, pc, n);
                    Gemm.DirectAMaxN = 0;
                    fixed (float* pc = packed) Gemm.Run(Gemm.Isa.Avx512, 2, false, false, m, n, k, 1.25f, pa, k + 3, pb, n, 0.5f, pc, n);
                }
                Assert.True(direct.AsSpan().SequenceEqual(packed), $"{m}×{n}×{k}: direct and packed A differ");
                Gemm.DirectAMaxN = saved;
                Check(Gemm.Isa.Avx512, 2, false, false, m, n, k, 1.25f, 0.5f, 3, 0, 0, m + n + k);
            }
        }
        finally { Gemm.DirectAMaxN = saved; }
    }

    [Fact]
    public void Strided_Deterministic_AcrossThreadCounts()
    {
        var rng = new Random(9);
        int batch = 6, m = 128, n = 64, k = 128;
        var a = Random(rng, batch * m * k);
        var b = Random(rng, batch * k * n);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var c = new float[batch * m * n];
            fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                Gemm.RunStrided(Gemm.BestIsa, threads, batch, false, false, m, n, k, 1f, pa, k, m * k, pb, n, k * n, 0f, pc, n, m * n);
            if (first == null) first = c;
            else Assert.True(first.AsSpan().SequenceEqual(c), $"{threads} threads differ");
        }
    }

    [Fact]
    public void Rejects_Aliasing()
    {
        var buf = new float[64 * 64 * 3];
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 64, 64, 64, 1f, buf.AsSpan(0, 4096), 64, buf.AsSpan(4096, 4096), 64, 0f, buf.AsSpan(2048, 4096), 64));
        Assert.Contains("Sgemm", ex.Message);
        Assert.Contains("overlaps A", ex.Message);
        Assert.Contains("64×64", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, 64, 64, 64, 1f, buf.AsSpan(0, 4096), 64, buf.AsSpan(4096, 4096), 64, 0f, buf.AsSpan(8000, 4096), 64));
        Assert.Contains("overlaps B", ex.Message);
        var big = new float[4 * 100];
        ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmStrided(4, false, false, 10, 10, 10, 1f, big, 10, 100, new float[400], 10, 100, 0f, big.AsSpan(0, 400), 10, 100));
        Assert.Contains("overlaps A", ex.Message);
        // Disjoint pieces of one buffer are fine.
        Gemm.Sgemm(false, false, 64, 64, 64, 1f, buf.AsSpan(0, 4096), 64, buf.AsSpan(4096, 4096), 64, 0f, buf.AsSpan(8192, 4096), 64);
    }

    [Fact]
    public void Rejects_ShortBuffers_And_BadLeadingDims()
    {
        var a = new float[6 * 5];
        var b = new float[5 * 4];
        var c = new float[6 * 4];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 6, 4, 5, 1f, a, 5, b, 4, 0f, c.AsSpan(0, 23), 4));
        Assert.Contains("Sgemm", ex.Message);
        Assert.Contains("C has 23 elements but 24", ex.Message);
        Assert.Contains("6×4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 6, 4, 5, 1f, a.AsSpan(1), 5, b, 4, 0f, c, 4));
        Assert.Contains("A has 29 elements but 30", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 6, 4, 5, 1f, a, 5, b, 6, 0f, c, 4));
        Assert.Contains("B has 20 elements but 23", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 6, 4, 5, 1f, a, 4, b, 4, 0f, c, 4));
        Assert.Contains("lda=4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 6, 4, 5, 1f, a, 5, b, 4, 0f, c, 3));
        Assert.Contains("ldc=3", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(true, false, 6, 4, 5, 1f, a, 5, b, 4, 0f, c, 4));
        Assert.Contains("lda=5", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, -1, 4, 5, 1f, a, 5, b, 4, 0f, c, 4));
        ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmStrided(3, false, false, 2, 2, 2, 1f, new float[12], 2, 4, new float[12], 2, 4, 0f, new float[11], 2, 4));
        Assert.Contains("C has 11 elements but 12", ex.Message);
    }

    [Fact]
    public void OpenBlas_MatchesReference_WhenInstalled()
    {
        if (!OpenBlasGemm.IsAvailable) return; // optional provider: nothing to check without the library
        var rng = new Random(13);
        foreach (var (ta, tb) in s_trans)
            foreach (var (m, n, k) in new[] { (1, 1, 1), (17, 33, 65), (128, 96, 200) })
            {
                int lda = ta ? m : k, ldb = tb ? k : n;
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                var c = Random(rng, m * n);
                var expect = new double[c.Length];
                var scale = new double[c.Length];
                Reference(ta, tb, m, n, k, 2f, a, lda, b, ldb, 0.5f, c, n, expect, scale);
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                    OpenBlasGemm.Sgemm(ta, tb, m, n, k, 2f, pa, lda, pb, ldb, 0.5f, pc, n);
                for (int i = 0; i < c.Length; i++)
                    Assert.True(Math.Abs(c[i] - expect[i]) <= 1e-4 * scale[i] + 1e-6, $"OpenBLAS transA={ta} transB={tb} {m}×{n}×{k}: C[{i}]={c[i]} expected {expect[i]}");
            }
    }
}
