// The TCAV module and the salience module's hierarchical view in a real browser (Playwright driving
// Debian's Chromium) on the demo classifier and dataset: star rows, run TCAV and read the per-layer
// table; open the phrase tree of the selected example and find its nodes, scores and interaction
// terms in the DOM.
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class ConceptModulesBrowserTests(BrowserFixture app) : BrowserTest(app)
{
    [Fact]
    public async Task Starred_rows_as_a_concept_give_a_tcav_table_per_layer()
    {
        await OpenAsync("sel=0");
        var tcav = Page.Locator("[data-module=tcav]");
        await Expect(tcav).ToBeVisibleAsync();
        // Nine starred rows are too few: the count says so.
        var stars = Page.Locator("#data-table .data-row button[title=star]");
        for (int i = 0; i < 9; i++) await stars.Nth(i).ClickAsync();
        await Expect(tcav.Locator(".tcav-concept-count")).ToHaveTextAsync("9 rows (at least 10 needed)");
        for (int i = 9; i < 12; i++) await stars.Nth(i).ClickAsync();
        await Expect(tcav.Locator(".tcav-concept-count")).ToHaveTextAsync("12 rows");

        await tcav.Locator(".tcav-class").SelectOptionAsync("NEGATIVE");
        // Each block's residual stream is preselected.
        var layers = await tcav.Locator(".tcav-layers").EvaluateAsync<string[]>("s => [...s.selectedOptions].map(o => o.value)");
        Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"], layers);
        await tcav.Locator(".tcav-runs").FillAsync("4");
        // Hold the request back a moment so the busy indicator can be seen.
        await Page.RouteAsync("**/api/tcav", async route => { await Task.Delay(1500); await route.ContinueAsync(); });
        await tcav.Locator(".tcav-run").ClickAsync();
        await Expect(tcav.Locator(".busy")).ToBeVisibleAsync();
        await Expect(tcav.Locator(".tcav-run")).ToBeDisabledAsync();

        var rows = tcav.Locator(".tcav-table tr.tcav-row");
        await Expect(rows).ToHaveCountAsync(2, new() { Timeout = 120_000 });
        await Expect(tcav.Locator(".busy")).ToBeHiddenAsync();
        for (int i = 0; i < 2; i++)
        {
            var row = rows.Nth(i);
            await Expect(row.Locator("td.layer")).ToHaveTextAsync(layers[i]);
            await Expect(row.Locator("td.score")).ToHaveTextAsync(new Regex(@"^[01]\.\d{3} ± \d\.\d{2}$"));
            await Expect(row.Locator("td.p")).ToHaveTextAsync(new Regex(@"^(< 0\.001|[01]\.\d{3})$"));
            await Expect(row.Locator("td.sig")).ToHaveTextAsync(new Regex("^[✓✗]$"));
            var sentence = tcav.Locator($"tr.tcav-sentence[data-layer='{layers[i]}'] td.summary");
            await Expect(sentence).ToContainTextAsync("The concept 'starred rows'");
            await Expect(sentence).ToContainTextAsync(layers[i]);
            // ✓ exactly when the row is marked significant and its sentence says so.
            bool significant = (await row.Locator("td.sig").TextContentAsync()) == "✓";
            Assert.Equal(significant, (await row.GetAttributeAsync("class"))!.Contains("significant"));
            Assert.Equal(significant, !(await sentence.TextContentAsync())!.Contains("no significant effect"));
        }
        await Expect(tcav.Locator(".tcav-status")).ToContainTextAsync("(12 rows) · class NEGATIVE");
        await SaveScreenshot(tcav, "tcav-table");
    }

    [Fact]
    public async Task Too_few_rows_in_a_slice_show_the_servers_error()
    {
        await OpenAsync("sel=0");
        var tcav = Page.Locator("[data-module=tcav]");
        await tcav.Locator(".tcav-concept-source").SelectOptionAsync("slice");
        await tcav.Locator(".tcav-concept-slice").FillAsync("/lovely pace/");
        await Expect(tcav.Locator(".tcav-concept-count")).ToHaveTextAsync(new Regex(@"^\d rows? \(at least 10 needed\)$"));
        await tcav.Locator(".tcav-run").ClickAsync();
        await Expect(tcav.Locator(".tcav-status.error")).ToContainTextAsync("TCAV needs at least 10");
    }

    [Fact]
    public async Task Hierarchical_view_draws_the_phrase_tree_with_scores_and_interactions()
    {
        await OpenAsync("sel=1");
        var salience = Page.Locator("#salience");
        await salience.Locator(".hierarchy-method").SelectOptionAsync("agglomerative");
        await salience.Locator(".hierarchy-toggle").CheckAsync();
        var tree = salience.Locator(".phrase-tree");
        await Expect(tree).ToBeVisibleAsync(new() { Timeout = 60_000 });
        // "The acting is stiff and the story crawls along." — one leaf per word, 2n − 1 nodes in all.
        var leaves = tree.Locator(".hnode.leaf");
        int words = await leaves.CountAsync();
        Assert.InRange(words, 8, 12);
        await Expect(tree.Locator(".hnode")).ToHaveCountAsync(2 * words - 1);
        await Expect(leaves.First.Locator(".hword")).ToHaveTextAsync("The");
        var scores = await tree.Locator(".hnode").EvaluateAllAsync<string[]>("ns => ns.map(n => n.dataset.score)");
        Assert.All(scores, s => Assert.Matches(@"^-?\d+\.\d{3}$", s));
        Assert.Contains(scores, s => s != "0.000" && s != "-0.000");
        // Nodes are coloured by score.
        Assert.Matches("^rgba\\(", await tree.Locator(".hnode").First.EvaluateAsync<string>("n => n.style.background"));
        // Hovering an inner phrase shows its score and interaction term.
        var inner = tree.Locator(".hnode:not(.leaf)").Last;
        await inner.Locator(".hscore").First.HoverAsync();
        await Expect(salience.Locator(".hierarchy-hover")).ToHaveTextAsync(new Regex(@"score -?\d\.\d{3}, interaction -?\d\.\d{3}$"));
        await Expect(salience.Locator(".hierarchy-summary")).ToContainTextAsync("The model predicts");
        await SaveScreenshot(salience, "phrase-tree");
    }
}
