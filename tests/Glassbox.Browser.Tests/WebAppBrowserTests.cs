// The web app in headless Chromium against an in-process server on 127.0.0.1: the trained SST-2
// model and SST-2 dev (872 rows). Chromium runs the page with a virtual-time budget (time advances
// only while the page is idle, so the API calls complete), then dumps the DOM or a screenshot.
// The screenshot is kept in artifacts/screenshots at the repository root and checked non-blank.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Glassbox.Server;

namespace Glassbox.Browser.Tests;

public sealed class WebAppFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;
    public string SavedId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = GlassboxServer.Create(new ServerOptions
        {
            Port = 0,
            Models = [new("sst2", SharedFiles.Model("distilbert-sst2-tiny"))],
            Datasets = [new("dev", SharedFiles.Data("sst2/dev.tsv"))],
        });
        await Server.StartAsync();
        using var http = new HttpClient { BaseAddress = Server.Url };
        using var res = await http.PostAsJsonAsync("/api/datapoints", new { dataset = "dev", datapoints = new[] { new { text = "a luminous , quietly devastating film", label = "1", parentId = "0" } } });
        res.EnsureSuccessStatusCode();
        var body = await res.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        SavedId = body.GetProperty("datapoints")[0].GetProperty("id").GetString()!;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class WebAppBrowserTests(WebAppFixture f) : IClassFixture<WebAppFixture>
{
    [Fact]
    public void Demo_page_renders_table_prediction_salience_and_attention()
    {
        string dom = WebAppChromium.DumpDom(new Uri(f.Server.Url, "/#model=sst2&dataset=dev&sel=1&methods=lig,saliency&proj=pca:2"));
        // The table: all 872 rows (plus the saved one) are known, but only the visible ones exist (virtualised).
        Assert.Contains("873 of 873 rows", dom);
        int rendered = Regex.Matches(dom, "class=\"row data-row").Count;
        Assert.InRange(rendered, 10, 60);
        Assert.Contains("unflinchingly bleak and desperate", dom);
        // Row 1 is selected from the URL and its prediction is shown with the gold label.
        Assert.Matches("class=\"row data-row selected\"[^>]*data-id=\"1\"", dom);
        Assert.Matches("<strong class=\"pred-label\">NEGATIVE</strong>", dom);
        Assert.Contains("matches gold", dom);
        // One salience row per chosen method, with shaded tokens.
        Assert.Matches("class=\"salience-row\" data-method=\"lig\"", dom);
        Assert.Matches("class=\"salience-row\" data-method=\"saliency\"", dom);
        Assert.Contains("class=\"tok\" style=\"background:rgba(", dom);
        Assert.Contains(">bleak</span>", dom);
        // Attention: a layer/head chooser and the token-to-token view.
        Assert.Contains("mean of heads", dom);
        Assert.Contains("class=\"attn-svg\"", dom);
        // Dataset-level modules: metrics (after every row was predicted) with the confusion matrix, the projector, generators.
        Assert.Contains("class=\"slice-row\"", dom);
        Assert.Contains("class=\"confusion\"", dom);
        // The model card (../shared/models/distilbert-sst2-tiny/training.json) reports 81.1% SST-2 dev accuracy.
        Assert.Contains("<td>all</td><td>872</td><td>0.811</td>", dom);
        Assert.Contains("class=\"projector-canvas\"", dom);
        Assert.Contains("explained variance", dom);
        Assert.Contains("data-module=\"generators\"", dom);
        Assert.Contains("<option value=\"hotflip\">hotflip</option>", dom);
        Assert.DoesNotContain("class=\"error\"", dom);
    }

    [Fact]
    public void Pinned_datapoint_is_shown_beside_the_selection_and_saved_datapoints_appear()
    {
        string dom = WebAppChromium.DumpDom(new Uri(f.Server.Url, $"/#model=sst2&dataset=dev&sel={f.SavedId}&pin=871"));
        Assert.Contains($"selected · {f.SavedId}", dom);
        Assert.Contains("pinned reference · 871", dom);
        Assert.Contains("a luminous , quietly devastating film", dom);
        Assert.Matches("class=\"row data-row pinned\"[^>]*data-id=\"871\"", dom);
        // The selected saved datapoint is scrolled into view: the last row of the table.
        Assert.Matches($"class=\"row data-row selected added\"[^>]*data-id=\"{f.SavedId}\"", dom);
    }

    [Fact]
    public void Screenshot_is_not_blank()
    {
        const int w = 1400, h = 1000;
        var png = WebAppChromium.Screenshot(new Uri(f.Server.Url, "/#model=sst2&dataset=dev&sel=3"), w, h);
        string path = Path.Combine(Screenshots.Folder, "WebAppBrowserTests.sst2-dev.png");
        File.WriteAllBytes(path, png);
        PageAssertions.IsNonBlankScreenshot(png, w, h);
        Screenshots.AssertNotBlank(png, path);
    }
}

/// <summary>Chromium on a URL (HeadlessChromium opens files): same isolation flags, plus a virtual-time budget.</summary>
internal static class WebAppChromium
{
    public static string DumpDom(Uri url)
    {
        var (code, output, err) = Run("--dump-dom", url.AbsoluteUri);
        Assert.True(code == 0 && output.Length > 0, $"chromium --dump-dom failed (exit {code}): {err}");
        return output;
    }

    public static byte[] Screenshot(Uri url, int width, int height)
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-webapp-shot-").FullName;
        string png = Path.Combine(dir, "shot.png");
        var (code, _, err) = Run($"--screenshot={png}", $"--window-size={width},{height}", url.AbsoluteUri);
        Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {code}): {err}");
        var bytes = File.ReadAllBytes(png);
        try { Directory.Delete(dir, true); } catch (IOException) { }
        return bytes;
    }

    private static (int, string, string) Run(params string[] args)
    {
        HeadlessChromium.RequireInstalled();
        string profile = Directory.CreateTempSubdirectory("glassbox-webapp-profile-").FullName;
        var psi = new ProcessStartInfo(HeadlessChromium.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--virtual-time-budget=30000", .. args])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start chromium");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish within 3 minutes");
        }
        try { Directory.Delete(profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

internal static class SharedFiles
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models")) && Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
        }
        throw new DirectoryNotFoundException("../shared (with models/ and data/) was not found above the test binaries; CI places it beside the repository.");
    });

    public static string Model(string name) => Path.Combine(s_root.Value, "models", name);
    public static string Data(string relative) => Path.Combine(s_root.Value, "data", relative);
}
