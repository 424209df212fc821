// Real-browser tests of the web app: Playwright for .NET (Microsoft.Playwright, whose package
// bundles the Node driver) drives Debian's /usr/bin/chromium headless against one in-process
// GlassboxServer on 127.0.0.1. No browser is ever downloaded (never run `playwright install`).
//
// How to write a browser test class (one file of your own):
//
//   [Collection(BrowserCollection.Name)]
//   public sealed class MyModuleBrowserTests(BrowserFixture app) : BrowserTest(app)
//   {
//       [Fact]
//       public async Task Shows_my_module()
//       {
//           await OpenAsync("sel=3");                                // the app at #model=sst2&dataset=demo&sel=3
//           await Expect(Page.Locator("[data-module=mine]")).ToBeVisibleAsync();
//           await SaveScreenshot(Page, "my-module");                // artifacts/screenshots/MyModuleBrowserTests.my-module.png, checked non-blank
//       }
//   }
//
// One server and one browser serve every class of the collection (they run one after another);
// each test gets a fresh browser context and page (no shared storage or state in the page). The
// server is shared: datapoints a test adds stay for later tests, so never assert the total row
// count of the table; assert on rows you select or add. An uncaught exception in the page fails
// the test. Served models: BrowserFixture.Model (the embedded demo classifier), .SecondModel (the
// SST-2 classifier from ../shared, for model comparison) and .LanguageModel (the embedded
// Shakespeare LM), as `glassbox demo` does, on the demo dataset (BrowserFixture.Dataset, 216 rows).
using Glassbox.Models.Images;
using Glassbox.Server;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

/// <summary>The xUnit collection every Playwright test class joins, so they share one server and one browser.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "web app in Chromium (Playwright)";
}

/// <summary>One GlassboxServer (demo models and dataset plus a second classifier) and one headless Chromium.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>The embedded demo classifier (models/sst2-distilbert-tiny), served as `glassbox demo` does.</summary>
    public const string Model = "sst2";
    /// <summary>A second SST-2 classifier with the same labels (../shared/models/distilbert-sst2-tiny), to compare models.</summary>
    public const string SecondModel = "sst2-shared";
    /// <summary>The embedded language model (models/shakespeare-gpt2-tiny).</summary>
    public const string LanguageModel = "shakespeare";
    /// <summary>The embedded demo dataset (models/demo-dataset/sentiment.tsv, 216 rows, POSITIVE/NEGATIVE).</summary>
    public const string Dataset = "demo";
    public const string ChromiumPath = "/usr/bin/chromium";
    /// <summary>Viewport of every page: wide enough for both columns of the layout.</summary>
    public const int Width = 1400, Height = 1000;

    public GlassboxServer Server { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    /// <summary>Server log lines (model loading), for failure messages.</summary>
    public StringWriter ServerLog { get; } = new();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"Chromium is not installed at {ChromiumPath}; the browser tests need it and fail without it. " +
                "Install it with: apt-get update && apt-get install -y chromium (.ci/run does this before the tests).");
        Server = GlassboxServer.Create(new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Models =
            [
                new(Model, RepoFiles.Path("models/sst2-distilbert-tiny")),
                new(SecondModel, SharedFiles.Model("distilbert-sst2-tiny")),
                new(LanguageModel, RepoFiles.Path("models/shakespeare-gpt2-tiny")),
            ],
            Datasets = [new(Dataset, RepoFiles.Path("models/demo-dataset/sentiment.tsv"))],
        }, ServerLog);
        await Server.StartAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>
/// Base of a Playwright test class: a fresh context and page per test (Page), the app's URL,
/// and SaveScreenshot, which keeps the PNG as a CI artifact and fails when it is blank.
/// </summary>
public abstract class BrowserTest(BrowserFixture app) : IAsyncLifetime
{
    private readonly List<string> _pageErrors = [];

    protected BrowserFixture App { get; } = app;
    protected IBrowserContext Context { get; private set; } = null!;
    protected IPage Page { get; private set; } = null!;
    /// <summary>Console errors the page logged (failed requests show here too); tests may assert on them.</summary>
    protected List<string> ConsoleErrors { get; } = [];

    public virtual async Task InitializeAsync()
    {
        Context = await App.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = BrowserFixture.Width, Height = BrowserFixture.Height },
            BaseURL = App.Server.Url.AbsoluteUri,
        });
        Context.SetDefaultTimeout(30_000);
        Page = await Context.NewPageAsync();
        Page.PageError += (_, e) => { lock (_pageErrors) _pageErrors.Add(e); };
        Page.Console += (_, m) => { if (m.Type == "error") lock (ConsoleErrors) ConsoleErrors.Add(m.Text); };
    }

    public virtual async Task DisposeAsync()
    {
        await Context.CloseAsync();
        lock (_pageErrors)
            Assert.True(_pageErrors.Count == 0, $"the page threw: {string.Join(" | ", _pageErrors)}");
    }

    /// <summary>Playwright's web-first assertions (retry until the timeout).</summary>
    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
    protected static IPageAssertions Expect(IPage page) => Assertions.Expect(page);

    /// <summary>The app's address with a URL state: "sel=3&amp;pin=5" becomes /#model=sst2&amp;dataset=demo&amp;sel=3&amp;pin=5 (model and dataset can be overridden).</summary>
    protected string AppUrl(string state = "")
    {
        var p = System.Web.HttpUtility.ParseQueryString(state);
        var parts = new List<string>();
        if (p["model"] is null) parts.Add($"model={BrowserFixture.Model}");
        if (p["dataset"] is null) parts.Add($"dataset={BrowserFixture.Dataset}");
        if (state.Length > 0) parts.Add(state);
        return new Uri(App.Server.Url, "/#" + string.Join('&', parts)).AbsoluteUri;
    }

    /// <summary>Opens the app with a URL state and waits until the table shows rows.</summary>
    protected async Task OpenAsync(string state = "")
    {
        await Page.GotoAsync(AppUrl(state));
        await Expect(Page.Locator("#data-table .data-row").First).ToBeVisibleAsync();
    }

    /// <summary>
    /// Screenshots the page (or one element) to artifacts/screenshots/&lt;TestClass&gt;.&lt;name&gt;.png
    /// at the repository root, and asserts the image is not blank. Returns the PNG's path.
    /// </summary>
    protected Task<string> SaveScreenshot(IPage page, string name) =>
        Screenshots.SaveAsync(GetType().Name, name, path => page.ScreenshotAsync(new PageScreenshotOptions { Path = path }));

    /// <inheritdoc cref="SaveScreenshot(IPage, string)"/>
    protected Task<string> SaveScreenshot(ILocator element, string name) =>
        Screenshots.SaveAsync(GetType().Name, name, path => element.ScreenshotAsync(new LocatorScreenshotOptions { Path = path }));
}

/// <summary>Where screenshots go and how "not blank" is decided.</summary>
public static class Screenshots
{
    /// <summary>Fewest distinct colours a screenshot must have (a blank page has 1, a page with a line of text has dozens).</summary>
    public const int MinDistinctColours = 8;
    /// <summary>Smallest share of pixels that must differ from the most common colour (the background).</summary>
    public const double MinForegroundShare = 0.005;

    /// <summary>&lt;repo&gt;/artifacts/screenshots, created if missing.</summary>
    public static string Folder
    {
        get
        {
            string dir = RepoFiles.Path("artifacts/screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static async Task<string> SaveAsync(string testClass, string name, Func<string, Task> shoot)
    {
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new ArgumentException($"screenshot name '{name}' may contain only letters, digits, '-', '_' and '.'.", nameof(name));
        string path = Path.Combine(Folder, $"{testClass}.{name}.png");
        await shoot(path);
        AssertNotBlank(await File.ReadAllBytesAsync(path), path);
        return path;
    }

    /// <summary>The bytes decode as a PNG with at least MinDistinctColours colours and MinForegroundShare of non-background pixels.</summary>
    public static void AssertNotBlank(byte[] png, string what)
    {
        Assert.True(Png.IsPng(png), $"{what} is not a PNG");
        var (distinct, foreground) = Measure(png);
        Assert.True(distinct >= MinDistinctColours && foreground >= MinForegroundShare,
            $"{what} looks blank: {distinct} distinct colours (need {MinDistinctColours}), {foreground:P2} of pixels differ from the background (need {MinForegroundShare:P1}).");
    }

    /// <summary>Distinct RGB colours and the share of pixels that are not the most common colour.</summary>
    public static (int DistinctColours, double ForegroundShare) Measure(byte[] png)
    {
        var rgb = Png.Decode(png).ToRgb();
        var p = rgb.Pixels;
        int n = rgb.Width * rgb.Height;
        if (n == 0) return (0, 0);
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int c = (p[3 * i] << 16) | (p[3 * i + 1] << 8) | p[3 * i + 2];
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        return (counts.Count, 1.0 - (double)counts.Values.Max() / n);
    }
}

/// <summary>Files of the repository (found by walking up to Glassbox.sln from the test binaries).</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "Glassbox.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"Glassbox.sln was not found above {AppContext.BaseDirectory}; run the tests from a Glassbox clone.");
    });

    public static string Root => s_root.Value;
    public static string Path(string relative) => System.IO.Path.Combine(s_root.Value, relative);
}
