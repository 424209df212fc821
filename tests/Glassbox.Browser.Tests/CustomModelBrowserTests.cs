// The sample project's custom model (samples/CustomModel: a lexicon sentiment model of a few lines of
// C#, and a review file in its own format) registered with GlassboxApp exactly as the sample's
// Program.cs does, then used in Chromium: its predictions, LIME attributions over its words and its
// metrics appear; the modules its spec does not fit (attention) do not.
using CustomModel;
using Glassbox.Server;

namespace Glassbox.Browser.Tests;

/// <summary>A second server, built with the extension API, for the custom-model browser tests.</summary>
public sealed class CustomModelAppFixture : IAsyncLifetime
{
    public GlassboxServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await GlassboxApp.Create(new ServerOptions { Port = 0 })
            .AddModel("lexicon", new LexiconSentiment())
            .AddDataset("reviews", Reviews.Load(RepoFiles.Path("samples/CustomModel/reviews.txt")))
            .StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

[Collection(BrowserCollection.Name)]
public sealed class CustomModelBrowserTests(BrowserFixture app, CustomModelAppFixture custom) : BrowserTest(app), IClassFixture<CustomModelAppFixture>
{
    [Fact]
    public async Task The_sample_model_shows_predictions_lime_and_metrics()
    {
        await Page.GotoAsync(new Uri(custom.Server.Url, "/#model=lexicon&dataset=reviews&methods=lime").AbsoluteUri);
        await Expect(Page.Locator("#data-table .data-row").First).ToBeVisibleAsync();

        // The first review, "A wonderful, moving film with a charming cast.", has three positive words: σ(3).
        var prediction = Page.Locator("#predictions .compare-col").First;
        await Expect(prediction.Locator(".pred-label")).ToHaveTextAsync("positive");
        await Expect(prediction.Locator("table.probs tr.predicted .num")).ToHaveTextAsync((1 / (1 + Math.Exp(-3))).ToString("F3", System.Globalization.CultureInfo.InvariantCulture));

        // LIME over the words: the three sentiment words get positive scores, and the row names the method.
        var lime = Page.Locator("#salience .salience-row[data-method='lime']");
        await Expect(lime.Locator(".tok").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var titles = await lime.Locator(".tok").EvaluateAllAsync<string[]>("els => els.map(e => e.title)");
        double Score(string word) => double.Parse(titles.Single(t => t.StartsWith(word + ":", StringComparison.Ordinal))[(word.Length + 1)..].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Score("wonderful,") > 0.1, string.Join(" | ", titles));
        Assert.True(Score("charming") > 0.1, string.Join(" | ", titles));
        Assert.True(Math.Abs(Score("film")) < 0.05, string.Join(" | ", titles));

        // Metrics: 12 of the 13 reviews are right (the one without a sentiment word is a tie, read as negative).
        var metrics = Page.Locator("#metrics table.metrics");
        await Expect(metrics).ToContainTextAsync((12.0 / 13).ToString("F3", System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 60_000 });

        // The spec declares Embeddings (projector) but no gradients (no attention module, no gradient methods offered).
        await Expect(Page.Locator("#projector")).ToBeVisibleAsync();
        await Expect(Page.Locator("#attention")).ToHaveCountAsync(0);
        await Expect(Page.Locator("#salience .method-toggles")).Not.ToContainTextAsync("lig");

        await SaveScreenshot(Page, "lexicon-app");
        await SaveScreenshot(Page.Locator("#salience"), "lexicon-lime");
    }

    /// <summary>The sample's own program (samples/CustomModel/Program.cs, built by the solution's build) runs as a
    /// process, prints where it serves, and its custom model's predictions appear in the browser.</summary>
    [Fact]
    public async Task The_sample_program_runs_as_a_process_and_serves_its_model()
    {
        // the sample's build output beside this test's: samples/CustomModel/bin/<Configuration>/<tfm>/CustomModel.dll
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = RepoFiles.Path(Path.Combine("samples", "CustomModel", "bin", tfm.Parent!.Name, tfm.Name, "CustomModel.dll"));
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (dotnet build Glassbox.sln -c {tfm.Parent!.Name}) first.");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "--port", "0" }) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            Uri? url = null;
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (url is null)
            {
                var read = process.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(read, Task.Delay(deadline - DateTime.UtcNow)) != read || await read is not { } line)
                    throw new Xunit.Sdk.XunitException($"the sample printed no URL within 90 s (exited: {process.HasExited}); stderr: {(process.HasExited ? await stderr : "")}");
                const string Marker = "Glassbox is serving at ";
                int at = line.IndexOf(Marker, StringComparison.Ordinal);
                if (at >= 0) url = new Uri(line[(at + Marker.Length)..].Split(' ')[0]);
            }
            Assert.Equal("127.0.0.1", url.Host);

            await Page.GotoAsync(new Uri(url, "/#model=lexicon&dataset=reviews&methods=lime").AbsoluteUri);
            await Expect(Page.Locator("#data-table .data-row")).ToHaveCountAsync(13);
            var prediction = Page.Locator("#predictions .compare-col").First;
            await Expect(prediction.Locator(".pred-label")).ToHaveTextAsync("positive");
            await Expect(prediction.Locator("table.probs tr.predicted .num")).ToHaveTextAsync((1 / (1 + Math.Exp(-3))).ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            await Expect(Page.Locator("#salience .salience-row[data-method='lime'] .tok").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await SaveScreenshot(Page, "sample-program");
        }
        finally
        {
            if (!process.HasExited) { process.Kill(entireProcessTree: true); await process.WaitForExitAsync(); }
        }
    }
}
