// PLACEHOLDER (naive) — the packed, cache-blocked kernel replaces the body; the API is fixed.
namespace Glassbox.Tensors.Kernels;

/// <summary>Single-precision GEMM on row-major storage: C = alpha·op(A)·op(B) + beta·C.</summary>
/// <remarks>op(A) is m×k, op(B) is k×n, C is m×n. lda/ldb/ldc are row strides of the matrices as
/// stored (for transA, A is stored k×m). Results never depend on the thread count: work is split
/// over rows/columns of C only, never over k.</remarks>
public static class Gemm
{
    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
    }

    /// <summary>Checked span overload: validates sizes and rejects C overlapping A or B.</summary>
    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>Batched GEMM over equally strided matrices (attention: [batch·heads, q, d]).</summary>
    public static unsafe void SgemmStrided(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            for (int i = 0; i < batch; i++)
                Sgemm(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc);
    }
}
