using System.Diagnostics;

namespace Glassbox.Cli.Tests;

/// <summary>The .NET tool: `dotnet pack` then `dotnet tool install --add-source DIR glassbox` (here into a
/// --tool-path folder instead of --global, so the test changes nothing outside its temporary folder), and the
/// installed `glassbox` runs. Slow (a Release pack and an install); it runs in CI like every other test.</summary>
public sealed class ToolPackagingTests
{
    private static (int Code, string Out, string Err) Exec(string file, string workingDir, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void PackedToolInstallsAndRuns()
    {
        string root = RepoPaths.Root;
        string temp = Directory.CreateTempSubdirectory("glassbox-tool").FullName;
        try
        {
            string feed = Path.Combine(temp, "feed"), tools = Path.Combine(temp, "tools");
            // --no-build: the test run has built src/Glassbox.Cli in this configuration already; rebuilding it here
            // could rewrite assemblies that other test processes have loaded.
            string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
            var pack = Exec("dotnet", root, TimeSpan.FromMinutes(25), "pack", "src/Glassbox.Cli", "-c", configuration, "--no-build", "-o", feed);
            Assert.True(pack.Code == 0, pack.Out + pack.Err);
            string package = Assert.Single(Directory.GetFiles(feed, "*.nupkg"));
            Assert.StartsWith("glassbox.", Path.GetFileName(package).ToLowerInvariant());

            // The command of the README, with --tool-path for --global.
            var install = Exec("dotnet", temp, TimeSpan.FromMinutes(10), "tool", "install", "--tool-path", tools, "--add-source", feed, "glassbox");
            Assert.True(install.Code == 0, install.Out + install.Err);

            string exe = Path.Combine(tools, OperatingSystem.IsWindows() ? "glassbox.exe" : "glassbox");
            var version = Exec(exe, temp, TimeSpan.FromMinutes(2), "--version");
            Assert.True(version.Code == 0, version.Err);
            Assert.Equal(Program.Version.Split('+')[0], version.Out.Trim().Split('+')[0]);

            var help = Exec(exe, temp, TimeSpan.FromMinutes(2), "explain-dataset", "--help");
            Assert.True(help.Code == 0, help.Err);
            Assert.Contains("Usage:", help.Out);
            Assert.Contains("glassbox explain-dataset", help.Out);

            // Bad input through the installed tool: exit code 2.
            var bad = Exec(exe, temp, TimeSpan.FromMinutes(2), "explain", "sequence-classification", "--model", "/no/such/model", "--text", "x");
            Assert.Equal(2, bad.Code);

            // The embedded defaults travel with the tool: the demo dataset is found beside the installed executable,
            // from a folder that has no models/ above it.
            var store = Directory.GetFiles(Path.Combine(tools, ".store"), "sentiment.tsv", SearchOption.AllDirectories);
            Assert.Contains(store, f => f.EndsWith(Path.Combine("models", "demo-dataset", "sentiment.tsv")));
        }
        finally
        {
            Directory.Delete(temp, true);
        }
    }
}
