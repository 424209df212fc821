// Runs /usr/bin/chromium headless on a local file: a screenshot and the DOM after scripts ran.
// Each run gets a fresh profile folder and every background network feature off, so a page that
// tried to fetch anything would simply render without it. A missing browser is a failure with
// the install command, not a skip: the views must be proven to render.
using System.Diagnostics;

namespace Glassbox.Browser.Tests;

internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public static void RequireInstalled()
    {
        if (!File.Exists(Executable))
            Assert.Fail($"Chromium is not installed at {Executable}; the browser tests need it. Install it with: " +
                "apt-get update && apt-get install -y chromium (.ci/run does this before the tests).");
    }

    public static byte[] Screenshot(string htmlPath, int width = 1000, int height = 700)
    {
        RequireInstalled();
        string dir = Directory.CreateTempSubdirectory("glassbox-shot-").FullName;
        try
        {
            string png = Path.Combine(dir, "screenshot.png");
            var (code, _, err) = Run(dir, $"--screenshot={png}", $"--window-size={width},{height}", new Uri(htmlPath).AbsoluteUri);
            Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {code}): {err}");
            return File.ReadAllBytes(png);
        }
        finally
        {
            TryDelete(dir);
        }
    }

    public static string DumpDom(string htmlPath)
    {
        RequireInstalled();
        string dir = Directory.CreateTempSubdirectory("glassbox-dom-").FullName;
        try
        {
            var (code, output, err) = Run(dir, "--dump-dom", new Uri(htmlPath).AbsoluteUri);
            Assert.True(code == 0 && output.Length > 0, $"chromium --dump-dom failed (exit {code}): {err}");
            return output;
        }
        finally
        {
            TryDelete(dir);
        }
    }

    private static (int Code, string Out, string Err) Run(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     $"--user-data-dir={Path.Combine(workDir, "profile")}", .. args])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Executable}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"chromium did not finish within 3 minutes: {string.Join(' ', args)}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
