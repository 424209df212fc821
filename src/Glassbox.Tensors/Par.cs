// Row-parallel loops for memory-bound kernels (softmax, norms, activations). Rows are split into
// contiguous chunks and each row is computed by exactly one thread, so results are identical for
// any thread count.
namespace Glassbox.Tensors;

internal static class Par
{
    /// <summary>Below this many elements a kernel runs on the calling thread.</summary>
    public const int MinParallelElements = 1 << 15;

    public delegate void RowRange(int start, int end);

    public static void Rows(int rows, int elementsPerRow, RowRange body)
    {
        int threads = Parallelism.ThreadCount;
        long work = (long)rows * Math.Max(1, elementsPerRow);
        if (threads <= 1 || rows < 2 || work < MinParallelElements) { body(0, rows); return; }
        int chunks = Math.Min(rows, threads * 4);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = (int)((long)rows * c / chunks), end = (int)((long)rows * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
