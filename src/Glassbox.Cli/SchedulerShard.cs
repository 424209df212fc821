// Which shard this process takes, from the command line or from the batch scheduler that started it:
//   --shard i/n                                   explicit;
//   --shards n  with JOB_COMPLETION_INDEX=i       a Kubernetes Indexed Job (completions = n);
//   SLURM_ARRAY_TASK_ID=i, SLURM_ARRAY_TASK_COUNT=n   a Slurm job array (--array=0-(n-1));
//     (SLURM_ARRAY_TASK_MIN is subtracted when set, so --array=1-n works too; --shards n overrides the count).
// Explicit beats the environment; both schedulers' variables at once, or --shard and --shards disagreeing, are an error
// rather than a silent choice.
namespace Glassbox.Cli;

internal static class SchedulerShard
{
    /// <summary>Resolves (index, count); problem is non-null for bad or conflicting input. Source names where it came from.</summary>
    public static (int Index, int Count, string? Source, string? Problem) Resolve(string? shard, int? shards, Func<string, string?> env)
    {
        if (shard is not null)
        {
            if (!ExplainDatasetCommand.TryParseShard(shard, out int i, out int n, out var problem)) return (0, 1, null, problem);
            if (shards is not null && shards != n) return (0, 1, null, $"--shard {shard} and --shards {shards} disagree on the number of shards.");
            return (i, n, "--shard", null);
        }
        string? k8s = env("JOB_COMPLETION_INDEX");
        string? slurmId = env("SLURM_ARRAY_TASK_ID");
        if (k8s is not null && slurmId is not null)
            return (0, 1, null, $"both JOB_COMPLETION_INDEX={k8s} (Kubernetes) and SLURM_ARRAY_TASK_ID={slurmId} (Slurm) are set; unset the one that does not belong to this job, or pass --shard i/n.");
        if (k8s is not null)
        {
            if (shards is null)
                return (0, 1, null, "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but --shards is not: pass --shards with the Job's completions.");
            if (!int.TryParse(k8s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i))
                return (0, 1, null, $"JOB_COMPLETION_INDEX='{k8s}' is not a non-negative integer.");
            return Check(i, shards.Value, "JOB_COMPLETION_INDEX");
        }
        if (slurmId is not null)
        {
            if (!int.TryParse(slurmId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                return (0, 1, null, $"SLURM_ARRAY_TASK_ID='{slurmId}' is not a non-negative integer.");
            int min = 0;
            string? minText = env("SLURM_ARRAY_TASK_MIN");
            if (minText is not null && !int.TryParse(minText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out min))
                return (0, 1, null, $"SLURM_ARRAY_TASK_MIN='{minText}' is not a non-negative integer.");
            int? count = shards;
            string? countText = env("SLURM_ARRAY_TASK_COUNT");
            if (count is null && countText is not null)
            {
                if (!int.TryParse(countText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c))
                    return (0, 1, null, $"SLURM_ARRAY_TASK_COUNT='{countText}' is not a non-negative integer; pass --shards n to give the count.");
                count = c;
            }
            if (count is null)
                return (0, 1, null, "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor --shards says how many shards there are.");
            return Check(id - min, count.Value, "SLURM_ARRAY_TASK_ID");
        }
        if (shards is not null)
            return (0, 1, null, "--shards needs a shard index: --shard i/n, or JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) in the environment.");
        return (0, 1, null, null);
    }

    private static (int, int, string?, string?) Check(int index, int count, string source)
    {
        if (count < 1) return (0, 1, null, $"the number of shards must be at least 1, not {count}.");
        if (index < 0 || index >= count) return (0, 1, null, $"{source} gives shard {index}, outside 0…{count - 1} for {count} shards.");
        return (index, count, source, null);
    }
}
