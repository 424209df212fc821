// `demo-first-prediction`: how long after the page opens `glassbox demo` shows its first
// prediction. Each run starts `glassbox demo --no-open` as a fresh process (cold start: model
// loading, JIT), waits for the URL it prints, opens it in a fresh headless Chromium context
// (Playwright for .NET driving /usr/bin/chromium) and reads, in the page, the time from
// navigation start (performance.timeOrigin) to the moment the first prediction label is in the
// DOM. Also reported: process start → URL printed (server start), and the time to the whole
// dataset being predicted. The process is stopped after each run.
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Glassbox.Bench;

public static partial class DemoFirstPredictionBench
{
    // Records, in the page, when the first prediction label and the end of predict-all appear.
    private const string Probe = """
        (() => {
          window.__gb = {};
          const check = () => {
            const p = document.querySelector('#predictions .pred-label');
            if (p && p.textContent && window.__gb.first === undefined) window.__gb.first = performance.now();
            const c = document.querySelector('#data-table .data-row .c-predicted');
            if (c && c.textContent && window.__gb.table === undefined) window.__gb.table = performance.now();
          };
          new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
        })();
        """;

    private static bool Verbose;

    public static int Run(string[] args)
    {
        int runs = 5;
        string? dll = null;
        string chromium = "/usr/bin/chromium";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--glassbox" when i + 1 < args.Length: dll = args[++i]; break;
                case "--chromium" when i + 1 < args.Length: chromium = args[++i]; break;
                case "--verbose": Verbose = true; break;
                default:
                    Console.Error.WriteLine($"error: unknown option '{args[i]}'; use --runs N, --glassbox PATH/glassbox.dll, --chromium PATH, --verbose (requests before the first prediction)");
                    return 2;
            }
        }
        dll ??= FindCli();
        if (dll is null || !File.Exists(dll))
        {
            Console.Error.WriteLine("error: glassbox.dll not found; build it first (dotnet build src/Glassbox.Cli -c Release) or pass --glassbox PATH/glassbox.dll.");
            return 2;
        }
        if (!File.Exists(chromium))
        {
            Console.Error.WriteLine($"error: Chromium not found at {chromium}; apt-get install -y chromium, or pass --chromium PATH.");
            return 2;
        }
        return RunAsync(runs, dll, chromium).GetAwaiter().GetResult();
    }

    private static string? FindCli()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "src", "Glassbox.Cli", "bin", "Release", "net10.0", "glassbox.dll");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static async Task<int> RunAsync(int runs, string dll, string chromium)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
        });
        Console.WriteLine($"glassbox demo, first prediction after the page opens; {runs} runs; {Environment.ProcessorCount} cores; load {Load()}");
        Console.WriteLine("run  server-start-s  first-prediction-s  table-predicted-s  all-predicted-s  server-cpu-s");
        var first = new List<double>();
        for (int r = 1; r <= runs; r++)
        {
            var (serverStart, firstPrediction, table, all, cpu) = await OneRun(browser, dll);
            first.Add(firstPrediction);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r,3}  {serverStart,14:F2}  {firstPrediction,18:F3}  {table,17:F3}  {all,15:F2}  {cpu,12:F2}"));
        }
        first.Sort();
        double median = first.Count % 2 == 1 ? first[first.Count / 2] : (first[first.Count / 2 - 1] + first[first.Count / 2]) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first prediction after navigation start: median {median:F3} s, max {first[^1]:F3} s (bar: 3 s); load after {Load()}"));
        return first[^1] <= 3.0 ? 0 : 1;
    }

    private static async Task<(double ServerStart, double First, double Table, double All, double ServerCpu)> OneRun(IBrowser browser, string dll)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll); psi.ArgumentList.Add("demo"); psi.ArgumentList.Add("--no-open");
        psi.Environment["CI"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            var m = UrlPattern().Match(e.Data);
            if (m.Success) url.TrySetResult(m.Value);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var done = await Task.WhenAny(url.Task, Task.Delay(TimeSpan.FromSeconds(120)), process.WaitForExitAsync());
            if (done != url.Task) throw new InvalidOperationException($"glassbox demo printed no URL: {output}");
            double serverStart = clock.Elapsed.TotalSeconds;
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
            var page = await context.NewPageAsync();
            await page.AddInitScriptAsync(Probe);
            await page.GotoAsync(url.Task.Result);
            await page.WaitForFunctionAsync("() => window.__gb && window.__gb.first !== undefined", null, new() { Timeout = 60_000, PollingInterval = 20 });
            double firstMs = await page.EvaluateAsync<double>("() => window.__gb.first");
            if (Verbose)
                Console.WriteLine(await page.EvaluateAsync<string>(
                    "() => performance.getEntriesByType('resource').filter(e => e.responseEnd <= window.__gb.first + 1).map(e => `  ${e.name.replace(location.origin, '')} start ${e.startTime.toFixed(0)} ms, end ${e.responseEnd.toFixed(0)} ms`).join('\\n')"));
            await page.WaitForFunctionAsync("() => window.__gb.table !== undefined", null, new() { Timeout = 60_000, PollingInterval = 20 });
            double tableMs = await page.EvaluateAsync<double>("() => window.__gb.table");
            // predict-all is done when the header's progress bar is hidden again
            await page.WaitForFunctionAsync("() => { const p = document.querySelector('header .progress'); return p && p.hidden; }", null, new() { Timeout = 120_000, PollingInterval = 50 });
            double allMs = await page.EvaluateAsync<double>("() => performance.now()");
            process.Refresh();
            double cpu = process.TotalProcessorTime.TotalSeconds;
            return (serverStart, firstMs / 1000, tableMs / 1000, allMs / 1000, cpu);
        }
        finally
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync();
        }
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    [GeneratedRegex(@"http://[0-9.:\[\]a-z]+/")]
    private static partial Regex UrlPattern();
}
