namespace Glassbox.Tensors;

/// <summary>How many threads kernels use. Default: GLASSBOX_THREADS if set, else all cores.</summary>
public static class Parallelism
{
    private static int s_threads = Initial();

    public static int ThreadCount
    {
        get => s_threads;
        set => s_threads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"Parallelism.ThreadCount must be at least 1, got {value}.");
    }

    private static int Initial()
    {
        var env = Environment.GetEnvironmentVariable("GLASSBOX_THREADS");
        return int.TryParse(env, out int t) && t >= 1 ? t : Environment.ProcessorCount;
    }
}
