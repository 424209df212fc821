namespace Glassbox.Cli.Tests;

/// <summary>SchedulerShard.Resolve: where explain-dataset's shard comes from (--shard, Kubernetes, Slurm) and every refusal.</summary>
public sealed class SchedulerShardTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out var v) ? v : null;
    }

    private static void AssertShard(int index, int count, string source, (int Index, int Count, string? Source, string? Problem) r)
    {
        Assert.Null(r.Problem);
        Assert.Equal((index, count, source), (r.Index, r.Count, r.Source));
    }

    private static string Problem((int Index, int Count, string? Source, string? Problem) r)
    {
        Assert.NotNull(r.Problem);
        Assert.Equal((0, 1, (string?)null), (r.Index, r.Count, r.Source)); // a refusal never hands out a shard
        return r.Problem!;
    }

    [Fact]
    public void NothingGivenMeansTheWholeDataset() => Assert.Equal((0, 1, (string?)null, (string?)null), SchedulerShard.Resolve(null, null, Env()));

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("0/3", 0, 3)]
    [InlineData("2/3", 2, 3)]
    [InlineData("99/100", 99, 100)]
    public void ExplicitShard(string text, int index, int count) => AssertShard(index, count, "--shard", SchedulerShard.Resolve(text, null, Env()));

    [Fact]
    public void ExplicitShardWithAgreeingShardsIsAccepted() => AssertShard(1, 4, "--shard", SchedulerShard.Resolve("1/4", 4, Env()));

    [Fact]
    public void ExplicitShardBeatsTheEnvironment()
    {
        AssertShard(1, 2, "--shard", SchedulerShard.Resolve("1/2", null, Env(("JOB_COMPLETION_INDEX", "0"))));
        AssertShard(0, 2, "--shard", SchedulerShard.Resolve("0/2", null, Env(("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "9"))));
        // Even a broken environment does not matter when --shard says it all.
        AssertShard(0, 2, "--shard", SchedulerShard.Resolve("0/2", null, Env(("JOB_COMPLETION_INDEX", "x"), ("SLURM_ARRAY_TASK_ID", "y"))));
    }

    [Theory]
    [InlineData("3/3", "--shard 3/3: the shard index counts from 0, so it must be below 3 (the shards are 0/3 … 2/3).")]
    [InlineData("0/0", "--shard 0/0: the number of shards must be at least 1.")]
    [InlineData("1", "--shard takes i/n, e.g. 0/4 for the first of four shards, not '1'.")]
    [InlineData("-1/3", "--shard takes i/n, e.g. 0/4 for the first of four shards, not '-1/3'.")]
    [InlineData("a/b", "--shard takes i/n, e.g. 0/4 for the first of four shards, not 'a/b'.")]
    [InlineData("1/2/3", "--shard takes i/n, e.g. 0/4 for the first of four shards, not '1/2/3'.")]
    public void BadExplicitShardIsRefused(string text, string message) => Assert.Equal(message, Problem(SchedulerShard.Resolve(text, null, Env())));

    [Fact]
    public void ExplicitShardAndShardsMustAgree() =>
        Assert.Equal("--shard 1/4 and --shards 3 disagree on the number of shards.", Problem(SchedulerShard.Resolve("1/4", 3, Env())));

    [Theory]
    [InlineData("0", 3, 0)]
    [InlineData("2", 3, 2)]
    [InlineData("0", 1, 0)]
    public void KubernetesIndexedJob(string index, int shards, int expected) =>
        AssertShard(expected, shards, "JOB_COMPLETION_INDEX", SchedulerShard.Resolve(null, shards, Env(("JOB_COMPLETION_INDEX", index))));

    [Fact]
    public void KubernetesNeedsShards() =>
        Assert.Equal("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but --shards is not: pass --shards with the Job's completions.",
            Problem(SchedulerShard.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "0")))));

    [Theory]
    [InlineData("-1")]
    [InlineData("one")]
    [InlineData("")]
    [InlineData(" 1")]
    public void KubernetesIndexMustBeANonNegativeInteger(string index) =>
        Assert.Equal($"JOB_COMPLETION_INDEX='{index}' is not a non-negative integer.",
            Problem(SchedulerShard.Resolve(null, 3, Env(("JOB_COMPLETION_INDEX", index)))));

    [Fact]
    public void KubernetesIndexOutsideTheShards() =>
        Assert.Equal("JOB_COMPLETION_INDEX gives shard 3, outside 0…2 for 3 shards.",
            Problem(SchedulerShard.Resolve(null, 3, Env(("JOB_COMPLETION_INDEX", "3")))));

    [Fact]
    public void ShardsMustBeAtLeastOne() =>
        Assert.Equal("the number of shards must be at least 1, not 0.",
            Problem(SchedulerShard.Resolve(null, 0, Env(("JOB_COMPLETION_INDEX", "0")))));

    [Theory]
    [InlineData("0", "3", 0, 3)]
    [InlineData("2", "3", 2, 3)]
    [InlineData("7", "8", 7, 8)]
    public void SlurmArray(string id, string count, int index, int shards) =>
        AssertShard(index, shards, "SLURM_ARRAY_TASK_ID", SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", id), ("SLURM_ARRAY_TASK_COUNT", count))));

    [Fact]
    public void SlurmArrayStartingAtOneSubtractsTaskMin()
    {
        // sbatch --array=1-3: ids 1, 2, 3 are shards 0, 1, 2.
        for (int id = 1; id <= 3; id++)
            AssertShard(id - 1, 3, "SLURM_ARRAY_TASK_ID", SchedulerShard.Resolve(null, null,
                Env(("SLURM_ARRAY_TASK_ID", id.ToString()), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3"))));
    }

    [Fact]
    public void SlurmShardsGivesTheCountAndOverridesTaskCount()
    {
        AssertShard(1, 4, "SLURM_ARRAY_TASK_ID", SchedulerShard.Resolve(null, 4, Env(("SLURM_ARRAY_TASK_ID", "1"))));
        AssertShard(1, 4, "SLURM_ARRAY_TASK_ID", SchedulerShard.Resolve(null, 4, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "2"))));
        // With --shards the count variable is not read, so even a malformed one is harmless.
        AssertShard(1, 4, "SLURM_ARRAY_TASK_ID", SchedulerShard.Resolve(null, 4, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "many"))));
    }

    [Fact]
    public void SlurmNeedsACount() =>
        Assert.Equal("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor --shards says how many shards there are.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "0")))));

    [Theory]
    [InlineData("x")]
    [InlineData("-2")]
    public void SlurmIdMustBeANonNegativeInteger(string id) =>
        Assert.Equal($"SLURM_ARRAY_TASK_ID='{id}' is not a non-negative integer.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", id), ("SLURM_ARRAY_TASK_COUNT", "3")))));

    [Fact]
    public void SlurmMalformedMinOrCountIsRefusedNotGuessed()
    {
        Assert.Equal("SLURM_ARRAY_TASK_MIN='first' is not a non-negative integer.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "first"), ("SLURM_ARRAY_TASK_COUNT", "3")))));
        Assert.Equal("SLURM_ARRAY_TASK_COUNT='three' is not a non-negative integer; pass --shards n to give the count.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "three")))));
    }

    [Fact]
    public void SlurmIdOutsideTheShards()
    {
        Assert.Equal("SLURM_ARRAY_TASK_ID gives shard 3, outside 0…2 for 3 shards.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "3")))));
        // --array=1-3 without TASK_MIN would make id 3 shard 3: refused, not wrapped.
        Assert.Equal("SLURM_ARRAY_TASK_ID gives shard -1, outside 0…2 for 3 shards.",
            Problem(SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")))));
    }

    [Fact]
    public void BothSchedulersAtOnceIsAnError() =>
        Assert.Equal("both JOB_COMPLETION_INDEX=0 (Kubernetes) and SLURM_ARRAY_TASK_ID=1 (Slurm) are set; unset the one that does not belong to this job, or pass --shard i/n.",
            Problem(SchedulerShard.Resolve(null, 3, Env(("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")))));

    [Fact]
    public void ShardsWithoutAnIndexIsAnError() =>
        Assert.Equal("--shards needs a shard index: --shard i/n, or JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) in the environment.",
            Problem(SchedulerShard.Resolve(null, 3, Env())));

    [Fact]
    public void SlurmCountAloneWithoutAnIdIsTheWholeDataset() =>
        // SLURM_ARRAY_TASK_COUNT without an id is not a shard (e.g. a non-array step inside an array allocation).
        Assert.Equal((0, 1, (string?)null, (string?)null), SchedulerShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_COUNT", "3"))));
}
