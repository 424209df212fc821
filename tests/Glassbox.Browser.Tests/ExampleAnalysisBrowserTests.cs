// The per-datapoint analysis modules in a real browser (Playwright, Debian's Chromium), on the
// models `glassbox demo` serves: the Shakespeare LM shows its generated text with per-token
// salience (hovering a generated token shades the tokens before it), the logit-lens table and the
// layer predictions; the demo classifier shows the nearest training examples (clicking one selects
// it in the table) and the explanation-quality table with the random baseline.
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class ExampleAnalysisBrowserTests(BrowserFixture app) : BrowserTest(app)
{
    private static readonly LocatorAssertionsToBeVisibleOptions Slow = new() { Timeout = 120_000 };

    [Fact]
    public async Task Language_model_shows_generated_text_with_salience_and_the_logit_lens()
    {
        await OpenAsync($"model={BrowserFixture.LanguageModel}&sel=2");
        var module = Page.Locator("[data-module=lm-salience]");
        await Expect(module).ToBeVisibleAsync();
        var generated = module.Locator(".lm-tok.generated");
        await Expect(generated.First).ToBeVisibleAsync(Slow);
        Assert.InRange(await generated.CountAsync(), 1, 8);
        // The prompt is the selected datapoint.
        string prompt = await module.Locator("textarea.lm-prompt").InputValueAsync();
        Assert.False(string.IsNullOrWhiteSpace(prompt));

        // Hover the last generated token: every earlier token is shaded by its share of the attribution.
        int n = await generated.CountAsync();
        await generated.Nth(n - 1).HoverAsync();
        await Expect(generated.Nth(n - 1)).ToHaveClassAsync(new Regex("focus"));
        var shaded = module.Locator(".lm-tok.prompt[style*='rgba(234, 88, 12']");
        Assert.True(await shaded.CountAsync() > 0, "prompt tokens are shaded by their attribution");
        await Expect(module.Locator(".lm-detail")).ToContainTextAsync("alternatives");

        // Logit lens: one row per layer (2), one cell per generated token, the rank of the output token in each.
        var lens = Page.Locator("[data-module=logit-lens] table.lm-lens-table");
        await Expect(lens).ToBeVisibleAsync();
        Assert.Equal(2, await lens.Locator("tr[data-layer]").CountAsync());
        Assert.Equal(2 * n, await lens.Locator("td.lens-cell").CountAsync());
        // Greedy decoding: in the last layer every generated token ranks first.
        var lastLayer = lens.Locator("tr[data-layer='1'] .lens-rank");
        for (int i = 0; i < n; i++) await Expect(lastLayer.Nth(i)).ToHaveTextAsync("#1");

        // Clicking a lens column focuses that token's layer predictions.
        await lens.Locator("td.lens-cell").First.ClickAsync();
        var layers = Page.Locator("[data-module=layer-predictions]");
        await Expect(layers.Locator("h3")).ToContainTextAsync("Layer predictions");
        Assert.Equal(2, await layers.Locator("tr[data-layer]").CountAsync());
        await Expect(layers.Locator("td.produced").First).ToBeVisibleAsync();
        await SaveScreenshot(Page, "lm-modules");
        await SaveScreenshot(Page.Locator("[data-module=logit-lens]"), "logit-lens");
    }

    [Fact]
    public async Task Classifier_shows_nearest_examples_and_quality_scores()
    {
        await OpenAsync("sel=3");
        // The LM modules are not offered for a classifier.
        Assert.Equal(0, await Page.Locator("[data-module=lm-salience]").CountAsync());

        var nearest = Page.Locator("[data-module=nearest-examples]");
        var rows = nearest.Locator("tr.neighbour");
        await Expect(rows.First).ToBeVisibleAsync(Slow);
        Assert.Equal(10, await rows.CountAsync());
        // The datapoint itself is left out of its own neighbours; similarities are in [-1, 1], nearest first.
        var ids = await rows.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.id)");
        Assert.DoesNotContain("3", ids);
        var sims = (await nearest.Locator("td.sim .num").AllTextContentsAsync()).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.All(sims, s => Assert.InRange(s, -1, 1));
        Assert.True(sims.Zip(sims.Skip(1)).All(p => p.First >= p.Second), string.Join(", ", sims));
        await Expect(nearest.Locator("td.gold").First).ToHaveTextAsync(new Regex("^(POSITIVE|NEGATIVE)"));

        var quality = Page.Locator("[data-module=explanation-quality]");
        await Expect(quality.Locator("tr[data-method=random]")).ToBeVisibleAsync(Slow);
        Assert.True(await quality.Locator("table.quality-table tr[data-method]").CountAsync() >= 2, "a row per chosen method and the random baseline");
        await Expect(quality.Locator("th").Nth(1)).ToContainTextAsync("comprehensiveness");
        await SaveScreenshot(Page.Locator("[data-module=nearest-examples]"), "nearest-examples");
        await SaveScreenshot(Page.Locator("[data-module=explanation-quality]"), "explanation-quality");

        // Clicking a neighbour selects it in the data table (and the modules follow the selection).
        await rows.First.ClickAsync();
        await Expect(Page.Locator($"#data-table .data-row.selected[data-id='{ids[0]}']")).ToBeVisibleAsync();
        await Expect(Page).ToHaveURLAsync(new Regex($"sel={Regex.Escape(ids[0])}"));
        await SaveScreenshot(Page, "classifier-analysis");
    }
}
