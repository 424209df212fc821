// Opt-in bridge to OpenBLAS's cblas_sgemm (Debian: libopenblas0), loaded at run time through
// NativeLibrary so the assembly has no native dependency: when the library is missing,
// IsAvailable is false and nothing else happens. Used as a speed reference by the benchmark and,
// when Gemm.UseOpenBlas is set, as the GEMM provider.
using System.Runtime.InteropServices;

namespace Glassbox.Tensors.Kernels;

public static unsafe class OpenBlasGemm
{
    private const int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setNumThreads;
    private static readonly delegate* unmanaged<byte*> s_getCorename;
    private static readonly delegate* unmanaged<byte*> s_getConfig;
    private static int s_threadsSet = -1;
    private static readonly object s_lock = new();

    /// <summary>True when libopenblas was found and exports cblas_sgemm.</summary>
    public static bool IsAvailable { get; }

    static OpenBlasGemm()
    {
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) continue;
            s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var set))
                s_setNumThreads = (delegate* unmanaged<int, void>)set;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var core))
                s_getCorename = (delegate* unmanaged<byte*>)core;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_config", out var config))
                s_getConfig = (delegate* unmanaged<byte*>)config;
            IsAvailable = true;
            return;
        }
    }

    /// <summary>The kernel family OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX"), or null.</summary>
    public static string? CoreName => s_getCorename == null ? null : Marshal.PtrToStringAnsi((nint)s_getCorename());

    /// <summary>OpenBLAS's build description (version, threading model), or null.</summary>
    public static string? Config => s_getConfig == null ? null : Marshal.PtrToStringAnsi((nint)s_getConfig());

    /// <summary>C = alpha·op(A)·op(B) + beta·C with the same conventions as <see cref="Gemm"/>;
    /// uses <see cref="Parallelism.ThreadCount"/> threads. Arguments are not checked here.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (!IsAvailable)
            throw new InvalidOperationException("OpenBlasGemm.Sgemm: libopenblas.so.0 is not installed (Debian: apt-get install libopenblas0).");
        int threads = Parallelism.ThreadCount;
        if (s_setNumThreads != null && threads != Volatile.Read(ref s_threadsSet))
        {
            lock (s_lock)
            {
                s_setNumThreads(threads);
                Volatile.Write(ref s_threadsSet, threads);
            }
        }
        s_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
