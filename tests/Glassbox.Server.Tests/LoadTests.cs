// 20 concurrent clients issue prediction and salience requests against the demo model (the trained
// SST-2 classifier) for GLASSBOX_LOAD_SECONDS seconds (10 in the test run; docs/PERFORMANCE.md
// records a 60-second run): no 5xx, no 429 (20 clients stay under the pending-request limit),
// process memory bounded; p50/p95 latency and the peak working set are printed.
using System.Diagnostics;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Glassbox.Server.Tests;

public sealed class LoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Twenty_clients_get_no_server_errors_and_memory_stays_bounded()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("GLASSBOX_LOAD_SECONDS"), out var s) && s > 0 ? s : 10;
        await using var server = GlassboxServer.Create(new ServerOptions { Port = 0, Models = [new("sst2", Shared.Model("distilbert-sst2-tiny"))] });
        await server.StartAsync();
        var sentences = File.ReadLines(Shared.Data("sst2/dev.tsv")).Skip(1).Select(l => l.Split('\t')[0]).ToArray();
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(2) };
        var latencies = new System.Collections.Concurrent.ConcurrentBag<(string Kind, double Ms)>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        long peak = 0;
        var stop = DateTime.UtcNow.AddSeconds(seconds);
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var sampler = Task.Run(async () =>
        {
            while (DateTime.UtcNow < stop) { proc.Refresh(); peak = Math.Max(peak, proc.WorkingSet64); await Task.Delay(100); }
        });
        var clients = Enumerable.Range(0, 20).Select(c => Task.Run(async () =>
        {
            var rng = new Random(c);
            while (DateTime.UtcNow < stop)
            {
                string text = sentences[rng.Next(sentences.Length)];
                bool salience = rng.Next(3) == 0;
                var sw = Stopwatch.StartNew();
                using var res = salience
                    ? await http.PostAsJsonAsync("/api/interpret", new { model = "sst2", input = new { text }, methods = new[] { rng.Next(2) == 0 ? "saliency" : "lig" }, steps = 20 })
                    : await http.PostAsJsonAsync("/api/predict", new { model = "sst2", inputs = new[] { new { text } } });
                await res.Content.ReadAsByteArrayAsync();
                latencies.Add((salience ? "salience" : "predict", sw.Elapsed.TotalMilliseconds));
                statuses.AddOrUpdate((int)res.StatusCode, 1, (_, n) => n + 1);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        await sampler;
        proc.Refresh();
        var cpu = proc.TotalProcessorTime - cpu0;
        foreach (var kind in new[] { "predict", "salience" })
        {
            var l = latencies.Where(x => x.Kind == kind).Select(x => x.Ms).Order().ToArray();
            if (l.Length == 0) continue;
            output.WriteLine($"{kind}: {l.Length} requests, p50 {l[l.Length / 2]:F0} ms, p95 {l[(int)(l.Length * 0.95)]:F0} ms, max {l[^1]:F0} ms");
        }
        output.WriteLine($"{seconds} s wall {wall.Elapsed.TotalSeconds:F1} s, process CPU {cpu.TotalSeconds:F1} s, peak working set {peak / (1 << 20)} MiB, " +
            $"statuses {string.Join(", ", statuses.OrderBy(k => k.Key).Select(k => $"{k.Key}×{k.Value}"))}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Assert.True(statuses.Keys.All(k => k == 200), $"every request answered 200: {string.Join(", ", statuses.Select(k => $"{k.Key}×{k.Value}"))}");
        Assert.True(latencies.Count >= 20, $"only {latencies.Count} requests completed");
        Assert.True(peak < 2L << 30, $"peak working set {peak / (1 << 20)} MiB");
    }
}
