using System.Diagnostics;

namespace Glassbox.Cli.Tests;

/// <summary>
/// Issue 13, "must show": three separate OS processes of the built CLI, each told its shard only by the scheduler's
/// environment (Kubernetes Indexed Job: JOB_COMPLETION_INDEX + --shards 3; Slurm array: SLURM_ARRAY_TASK_ID +
/// SLURM_ARRAY_TASK_COUNT), run concurrently; merge-results of their outputs equals an unsharded run byte for byte.
/// </summary>
public sealed class ShardProcessesTests : IDisposable
{
    private const int Rows = 31; // not a multiple of 3: the blocks are 10, 10 and 11 rows
    private readonly string dir = Directory.CreateTempSubdirectory("glassbox-shard-processes").FullName;
    private readonly string data;

    public ShardProcessesTests()
    {
        data = Path.Combine(dir, "dev31.tsv");
        File.WriteAllLines(data, File.ReadLines(Path.Combine(CliTestSupport.SharedDir, "data", "sst2", "dev.tsv")).Take(Rows + 1));
    }

    public void Dispose() => Directory.Delete(dir, true);

    private static readonly string[] SchedulerVariables =
        ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_JOB_ID"];

    private string[] ExplainArgs(string output, params string[] more) =>
        ["explain-dataset", "sequence-classification", "--model", Path.Combine(CliTestSupport.SharedDir, "models", "distilbert-sst2-tiny"),
         "--data", data, "--method", "occlusion", "--threads", "1", "--out", output, .. more];

    /// <summary>Starts the built glassbox.dll (next to the test binaries) with exactly the given scheduler variables.</summary>
    private static Process Start(string[] args, IReadOnlyDictionary<string, string> env)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "glassbox.dll");
        Assert.True(File.Exists(dll), $"{dll} not found: the CLI is built next to the tests");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in info.Environment.Keys.Where(k => SchedulerVariables.Contains(k) || k.StartsWith("SLURM_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        foreach (var (name, value) in env) info.Environment[name] = value;
        return Process.Start(info)!;
    }

    private void AssertMergeOfThreeProcessesEqualsUnsharded(string scheduler, Func<int, Dictionary<string, string>> env, params string[] shardArgs)
    {
        string full = Path.Combine(dir, "full.jsonl");
        var unsharded = CliTestSupport.Run(ExplainArgs(full));
        Assert.True(unsharded.Code == 0, unsharded.Err);

        var outputs = Enumerable.Range(0, 3).Select(i => Path.Combine(dir, $"{scheduler}-shard-{i}.jsonl")).ToArray();
        var processes = Enumerable.Range(0, 3).Select(i => Start(ExplainArgs(outputs[i], shardArgs), env(i))).ToArray();
        var stderrs = processes.Select(p => p.StandardError.ReadToEndAsync()).ToArray();
        var stdouts = processes.Select(p => p.StandardOutput.ReadToEndAsync()).ToArray();
        for (int i = 0; i < 3; i++)
        {
            if (!processes[i].WaitForExit(TimeSpan.FromMinutes(4)))
            {
                foreach (var p in processes) { try { p.Kill(true); } catch (InvalidOperationException) { } }
                Assert.Fail($"{scheduler} shard {i} did not finish within 4 minutes");
            }
            string err = stderrs[i].Result;
            Assert.True(processes[i].ExitCode == 0, $"{scheduler} shard {i} exited {processes[i].ExitCode}: {err}");
            Assert.Equal("", stdouts[i].Result);
            // Each process reports the block the environment gave it: 31 rows → [0,10), [10,20), [20,31).
            int start = i * Rows / 3, end = (i + 1) * Rows / 3;
            Assert.Contains($"(shard {i}/3: rows {start}–{end - 1} of {Rows})", err);
            Assert.Equal(end - start, File.ReadAllLines(outputs[i]).Length);
            processes[i].Dispose();
        }

        string merged = Path.Combine(dir, $"{scheduler}-merged.jsonl");
        var merge = CliTestSupport.Run(["merge-results", "--out", merged, .. outputs, "--expect", Rows.ToString()]);
        Assert.True(merge.Code == 0, merge.Err);
        Assert.Equal(File.ReadAllBytes(full), File.ReadAllBytes(merged));
    }

    [Fact]
    public void KubernetesIndexedJobShardsMergeToTheUnshardedRun() =>
        AssertMergeOfThreeProcessesEqualsUnsharded("kubernetes", i => new() { ["JOB_COMPLETION_INDEX"] = i.ToString() }, "--shards", "3");

    [Fact]
    public void SlurmArrayShardsMergeToTheUnshardedRun() =>
        AssertMergeOfThreeProcessesEqualsUnsharded("slurm", i => new() { ["SLURM_ARRAY_TASK_ID"] = i.ToString(), ["SLURM_ARRAY_TASK_COUNT"] = "3" });
}
