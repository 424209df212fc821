// `glassbox demo [--out DIR] [--no-open] [--report]`: the first thing to run. Uses only what the
// repository ships in models/ (EmbeddedModels): explains the demo dataset with the embedded
// sentiment classifier (the explain-dataset report, DIR/index.html, with DIR/results.jsonl) and
// analyses a continuation of the embedded Shakespeare LM (DIR/lm.html, Ecco's views), prints the
// report's path and opens it in a browser unless --no-open (or CI is set, or there is no display).
// Every file is written atomically (temporary file + rename); the LM page first, the report last,
// so the report's link never points at a missing page. That is `demo --report`; plain `demo` starts
// the web app on the same defaults (DemoServe.cs). Hidden --model/--lm-model/--data replace the embedded defaults (development).
using System.CommandLine;
using System.Diagnostics;
using Glassbox.Explain.Explainers;
using Glassbox.Explain.LanguageModels;

namespace Glassbox.Cli;

internal static class DemoCommand
{
    /// <summary>Where the demo's prompt leads the LM: a line in the style of its training text.</summary>
    internal const string LmPrompt = "ROMEO:\nWhat light is this";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var outOption = new Option<string>("--out") { Description = "folder for the demo pages (created if missing)", DefaultValueFactory = _ => "glassbox-demo" };
        var noOpenOption = new Option<bool>("--no-open") { Description = "only print the report's path; do not open a browser" };
        var reportOption = new Option<bool>("--report") { Description = "write the HTML report (index.html, lm.html, results.jsonl in --out) instead of starting the web app" };
        var stepsOption = new Option<int>("--steps") { Description = "integration steps per explanation", DefaultValueFactory = _ => 50 };
        var modelOption = new Option<string?>("--model") { Description = "classifier instead of the embedded one", Hidden = true };
        var lmOption = new Option<string?>("--lm-model") { Description = "language model instead of the embedded one", Hidden = true };
        var dataOption = new Option<string?>("--data") { Description = "dataset instead of the embedded demo dataset", Hidden = true };

        var command = new Command("demo", "Start the web app on the embedded sentiment classifier, language model and demo dataset and print its URL; with --report, write an HTML report instead.")
        {
            outOption, noOpenOption, reportOption, stepsOption, modelOption, lmOption, dataOption,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(stepsOption) is not null && CliParsing.ParsedOrDefault(() => result.GetValue(stepsOption)) is var s && s < 1) result.AddError($"--steps must be at least 1, not {s}.");
        });
        command.SetAction(parse =>
        {
            string outDir = Path.GetFullPath(parse.GetValue(outOption)!);
            if (File.Exists(outDir))
            {
                stderr.WriteLine($"error: --out {outDir} is a file; demo writes a folder of pages. Choose a folder name.");
                return Program.ExitBadInput;
            }
            if (!CommonOptions.CheckOutPath(outDir, stderr, "--out", file: false)) return Program.ExitBadInput;

            string? classifier = parse.GetValue(modelOption) ?? EmbeddedModels.Find(EmbeddedModels.Classifier);
            string? lm = parse.GetValue(lmOption) ?? EmbeddedModels.Find(EmbeddedModels.LanguageModel);
            string? data = parse.GetValue(dataOption) ?? EmbeddedModels.Find(EmbeddedModels.DemoDataset);
            foreach (var (path, what) in new[] { (classifier, EmbeddedModels.Classifier), (lm, EmbeddedModels.LanguageModel), (data, EmbeddedModels.DemoDataset) })
            {
                if (path is null)
                {
                    stderr.WriteLine($"error: the embedded {what} was not found: looked for models/{what} beside {AppContext.BaseDirectory} and in the folders above it and above {Environment.CurrentDirectory}.");
                    stderr.WriteLine("Run glassbox demo from a Glassbox clone (dotnet run --project src/Glassbox.Cli -- demo) or reinstall the tool.");
                    return Program.ExitBadInput;
                }
            }

            // Without --report: the web app on the same defaults (DemoServe), printing its URL.
            if (!parse.GetValue(reportOption))
                return DemoServe.Run(classifier!, lm!, data!, stdout, stderr, url => { if (!parse.GetValue(noOpenOption)) TryOpen(url.AbsoluteUri, stderr); });

            // Both models load before anything is written; then the LM page, then the report.
            if (!CliModels.TryLoad(classifier!, stderr, out _, out _)) return Program.ExitBadInput;
            if (!LmCommand.TryLoad(lm!, stderr, out var analyzer)) return Program.ExitBadInput;
            stderr.WriteLine($"demo: analysing {Path.GetFileName(lm!.TrimEnd('/'))} on \"{LmPrompt.Replace("\n", "\\n")}\"");
            var analysis = analyzer.Generate(LmPrompt, new LmGenerateOptions
            {
                MaxNewTokens = 12,
                Attributions = [LmAttributionMethod.IntegratedGradients, LmAttributionMethod.Saliency],
                CaptureActivations = true,
            });
            string lmHtml = Glassbox.Render.LmAnalysisHtml.Render(analysis, EmbeddedModels.DisplayName(lm!), new Glassbox.Render.LmViewOptions { NmfComponents = 6 });
            Directory.CreateDirectory(outDir);
            Glassbox.Render.AtomicFile.WriteAllText(Path.Combine(outDir, "lm.html"), lmHtml);

            // The dataset report: explain-dataset into a temporary results file, renamed when complete.
            string results = Path.Combine(outDir, "results.jsonl");
            string temp = Path.Combine(outDir, $".results.jsonl.{Guid.NewGuid():N}.tmp");
            string report = Path.Combine(outDir, "index.html");
            var settings = new DatasetSettings
            {
                Task = "sequence-classification",
                Model = classifier!,
                Data = data!,
                TextColumn = "sentence",
                LabelColumn = "label",
                Out = temp,
                Report = report,
                BatchSize = 32,
                Options = new ExplainerOptions { Method = AttributionMethod.Lig, Steps = parse.GetValue(stepsOption) },
                ReportTitle = $"Glassbox demo: {EmbeddedModels.DisplayName(classifier!)} on the demo dataset",
                ReportLinks = [("Language-model analysis (lm.html)", "lm.html"), ("All explanations (results.jsonl)", "results.jsonl")],
            };
            int code;
            try
            {
                code = DatasetRun.Run(settings, stdout, stderr, CliProgress.ModeFor(parse, stderr));
                if (code == Program.ExitOk) File.Move(temp, results, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            if (code != Program.ExitOk) return code;

            stdout.WriteLine(report);
            if (!parse.GetValue(noOpenOption)) TryOpen(report, stderr);
            return Program.ExitOk;
        });
        return command;
    }

    /// <summary>Opens <paramref name="path"/> in the default browser when there is one to open; never fails the command.</summary>
    private static void TryOpen(string path, TextWriter stderr)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) return;
        try
        {
            ProcessStartInfo start;
            if (OperatingSystem.IsWindows()) start = new ProcessStartInfo(path) { UseShellExecute = true };
            else if (OperatingSystem.IsMacOS()) start = new ProcessStartInfo("open", [path]);
            else
            {
                if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))) return;
                start = new ProcessStartInfo("xdg-open", [path]);
            }
            start.RedirectStandardError = !OperatingSystem.IsWindows();
            start.RedirectStandardOutput = !OperatingSystem.IsWindows();
            using var process = Process.Start(start);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or PlatformNotSupportedException)
        {
            stderr.WriteLine($"(could not open a browser: {e.Message}; open {path} yourself)");
        }
    }
}

/// <summary>The defaults the repository ships in models/: found beside the executable (the build copies
/// models/** to the output folder, and the .NET tool package carries them), else by walking up from the
/// executable's folder and from the current folder to a folder that has models/NAME.</summary>
internal static class EmbeddedModels
{
    public const string Classifier = "sst2-distilbert-tiny";
    public const string LanguageModel = "shakespeare-gpt2-tiny";
    public const string DemoDataset = "demo-dataset/sentiment.tsv";

    /// <summary>The full path of models/<paramref name="name"/>, or null when it is nowhere to be found.</summary>
    public static string? Find(string name)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", name);
                if (File.Exists(candidate) || File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            }
        }
        return null;
    }

    public static string DisplayName(string path) => Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
}
