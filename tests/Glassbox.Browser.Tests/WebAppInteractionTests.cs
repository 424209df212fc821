// LIT's workflows clicked through in a real browser (Playwright driving Debian's Chromium) on the
// demo classifier and dataset: open the demo, select an example and see its salience, edit it and
// add it as new, generate a counterfactual and add it, slice the metrics by gold label, filter the
// table by a confusion-matrix cell, open the projector and pick a point, pin a reference, and get
// the same view back from the URL. What the page shows is checked against the JSON API (asked
// directly from the test) or against counts recomputed here, never against numbers copied from
// an earlier run. Each test keeps a screenshot (artifacts/screenshots), checked non-blank.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class WebAppInteractionTests(BrowserFixture app) : BrowserTest(app)
{
    private static readonly string[] Labels = ["NEGATIVE", "POSITIVE"];

    private ILocator Row(string id) => Page.Locator($"#data-table .data-row[data-id=\"{id}\"]");
    private ILocator PredictionColumn(int i) => Page.Locator("#predictions .compare-col").Nth(i);

    [Fact]
    public async Task Demo_opens_with_the_first_predictions()
    {
        await OpenAsync();
        // The first row is selected and predicted; the table fills in every row's prediction.
        await Expect(Row("0")).ToHaveClassAsync(SelectedClass());
        await Expect(PredictionColumn(0).Locator("h3")).ToHaveTextAsync("selected · 0");
        var expected = await PredictAsync(BrowserFixture.Model, DemoText(0));
        await Expect(PredictionColumn(0).Locator(".pred-label")).ToHaveTextAsync(expected.Label);
        await Expect(PredictionColumn(0).Locator("tr.predicted td.num")).ToHaveTextAsync(expected.Probability.ToString("F3", CultureInfo.InvariantCulture));
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(RowCount());
        await Expect(Row("0").Locator(".c-predicted")).ToHaveTextAsync(expected.Label);
        await Expect(Row("1").Locator(".c-predicted")).ToHaveTextAsync(LabelPattern());
        await Expect(Page.Locator(".model-select")).ToHaveValueAsync(BrowserFixture.Model);
        await SaveScreenshot(Page, "demo-opened");
    }

    [Fact]
    public async Task Selecting_a_row_shows_its_prediction_and_salience()
    {
        await OpenAsync();
        await Row("3").Locator(".c-text").ClickAsync();
        await Expect(Row("3")).ToHaveClassAsync(SelectedClass());
        await Expect(Row("0")).Not.ToHaveClassAsync(SelectedClass());
        await Expect(PredictionColumn(0).Locator("h3")).ToHaveTextAsync("selected · 3");
        var expected = await PredictAsync(BrowserFixture.Model, DemoText(3));
        await Expect(PredictionColumn(0).Locator(".pred-label")).ToHaveTextAsync(expected.Label);
        // Salience rows for the autorun methods, one shaded token per wordpiece of the sentence.
        foreach (string method in new[] { "lig", "saliency" })
        {
            var row = Page.Locator($"#salience .salience-row[data-method=\"{method}\"]");
            await Expect(row.Locator(".tok").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            var tokens = await row.Locator(".tok").AllTextContentsAsync();
            Assert.Equal("[CLS]", tokens[0]);
            Assert.Equal("[SEP]", tokens[^1]);
            Assert.Contains("annoyed", tokens);
            await Expect(row.Locator(".meta")).ToContainTextAsync(expected.Label);
        }
        // The target chooser defaults to the predicted class and offers every class.
        await Expect(Page.Locator("#salience select.target")).ToHaveValueAsync(expected.Label);
        Assert.Equal(Labels, await Page.Locator("#salience select.target option").AllTextContentsAsync());
        // Word granularity merges wordpieces and drops the special tokens.
        await Page.Locator("#salience select.granularity").SelectOptionAsync("word");
        var words = await Page.Locator("#salience .salience-row[data-method=\"lig\"] .tok").AllTextContentsAsync();
        Assert.DoesNotContain("[CLS]", words);
        Assert.Contains("annoyed", words);
        await SaveScreenshot(Page, "row-selected-salience");
    }

    [Fact]
    public async Task Editing_a_datapoint_compares_it_with_the_original_and_adds_it_as_new()
    {
        await OpenAsync("sel=0&" + Light);
        string edited = "The acting is stiff and the story crawls at a dull pace.";
        await Page.Locator("#editor textarea.edit-text").FillAsync(edited);
        // The edit and the original side by side, each with the model's own prediction.
        var editedCol = Page.Locator("#editor .compare-col.edited");
        var originalCol = Page.Locator("#editor .compare-col:not(.edited)");
        var pe = await PredictAsync(BrowserFixture.Model, edited);
        var po = await PredictAsync(BrowserFixture.Model, DemoText(0));
        await Expect(editedCol.Locator(".pred-label")).ToHaveTextAsync(pe.Label);
        await Expect(originalCol.Locator("h3")).ToHaveTextAsync("original · 0");
        await Expect(originalCol.Locator(".pred-label")).ToHaveTextAsync(po.Label);
        await Expect(editedCol.Locator("tr.predicted td.num")).ToHaveTextAsync(pe.Probability.ToString("F3", CultureInfo.InvariantCulture));
        await SaveScreenshot(Page, "edit-compared");

        await Page.Locator("#editor button.add-new").ClickAsync();
        await Expect(Page.Locator("#editor .status")).ToHaveTextAsync(new Regex(@"^added \S+$"));
        string newId = (await Page.Locator("#editor .status").TextContentAsync())!["added ".Length..];
        // The new datapoint is a row of the table (marked added), selected, with its own prediction.
        var row = Row(newId);
        await Expect(row).ToHaveClassAsync(new Regex(@"\badded\b"));
        await Expect(row).ToHaveClassAsync(SelectedClass());
        await Expect(row.Locator(".c-text")).ToHaveTextAsync(edited);
        await Expect(row.Locator(".c-predicted")).ToHaveTextAsync(pe.Label);
        await Expect(PredictionColumn(0).Locator("h3")).ToHaveTextAsync($"selected · {newId}");
        await Expect(PredictionColumn(0).Locator(".pred-label")).ToHaveTextAsync(pe.Label);
        // The server kept it, linked to its parent.
        var saved = await GetAsync($"/api/datapoints?dataset={BrowserFixture.Dataset}");
        var point = saved.GetProperty("datapoints").EnumerateArray().Single(d => d.GetProperty("id").GetString() == newId);
        Assert.Equal(edited, point.GetProperty("text").GetString());
        Assert.Equal("0", point.GetProperty("parentId").GetString());
        await SaveScreenshot(Page, "edit-added");
    }

    [Fact]
    public async Task A_generated_counterfactual_is_reviewed_then_added()
    {
        await OpenAsync("sel=0&" + Light);
        await Page.Locator("#generators select.generator").SelectOptionAsync("word-replacer");
        await Page.Locator("#generators input.rules").FillAsync("warm -> cold, lovely -> dreary");
        await Page.Locator("#generators button", new() { HasText = "Generate" }).ClickAsync();
        var candidates = Page.Locator("#generators .cf");
        await Expect(candidates.First).ToBeVisibleAsync();
        var texts = await candidates.AllTextContentsAsync();
        Assert.Contains(texts, t => t.Contains("cold", StringComparison.Ordinal) || t.Contains("dreary", StringComparison.Ordinal));
        await candidates.First.Locator("input[type=checkbox]").CheckAsync();
        string picked = texts[0].Trim();
        await Page.Locator("#generators button", new() { HasText = "Add selected" }).ClickAsync();
        await Expect(Page.Locator("#generators")).ToContainTextAsync("added 1 datapoint(s)");
        var saved = await GetAsync($"/api/datapoints?dataset={BrowserFixture.Dataset}");
        var point = saved.GetProperty("datapoints").EnumerateArray().Last();
        Assert.Equal("word-replacer", point.GetProperty("source").GetString());
        Assert.Equal("0", point.GetProperty("parentId").GetString());
        Assert.StartsWith(point.GetProperty("text").GetString()!, picked, StringComparison.Ordinal);
        // The table is virtualised: filter it to the new text to bring the row into view.
        string id = point.GetProperty("id").GetString()!;
        await Page.Locator("#data-table input.filter").FillAsync(point.GetProperty("text").GetString()!);
        await Expect(Row(id)).ToHaveClassAsync(new Regex(@"\badded\b"));
        await Expect(Row(id).Locator(".c-predicted")).ToHaveTextAsync(LabelPattern());
        await SaveScreenshot(Page, "counterfactual-added");
    }

    [Fact]
    public async Task Metrics_sliced_by_gold_label_match_the_predictions()
    {
        await OpenAsync(Light);
        var metrics = Page.Locator("#metrics");
        await Expect(metrics.Locator("tr.slice-row").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await metrics.Locator("select.facet").SelectOptionAsync("label");
        await Expect(metrics.Locator("tr.slice-row")).ToHaveCountAsync(3);
        // Recount from the dataset and the API's predictions: n and accuracy of every slice.
        var (gold, pred) = await DatasetPredictionsAsync();
        var slices = new Dictionary<string, (int N, int Correct)>
        {
            ["all"] = (gold.Length, gold.Where((g, i) => g == pred[i]).Count()),
        };
        for (int c = 0; c < Labels.Length; c++)
        {
            var idx = Enumerable.Range(0, gold.Length).Where(i => gold[i] == c).ToArray();
            slices[$"label={Labels[c]}"] = (idx.Length, idx.Count(i => pred[i] == c));
        }
        var rows = metrics.Locator("tr.slice-row");
        for (int r = 0; r < 3; r++)
        {
            var cells = await rows.Nth(r).Locator("td").AllTextContentsAsync();
            Assert.True(slices.TryGetValue(cells[0], out var want), $"unexpected slice '{cells[0]}'");
            Assert.Equal(want.N.ToString(CultureInfo.InvariantCulture), cells[1]);
            Assert.Equal(((double)want.Correct / want.N).ToString("F3", CultureInfo.InvariantCulture), cells[2]);
        }
        Assert.Equal(216, slices["all"].N);
        await SaveScreenshot(metrics, "metrics-by-label");
    }

    [Fact]
    public async Task Clicking_a_confusion_matrix_cell_filters_the_table_to_its_rows()
    {
        await OpenAsync(Light);
        var cm = Page.Locator("#metrics table.confusion");
        await Expect(cm).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var (gold, pred) = await DatasetPredictionsAsync();
        // The off-diagonal cell with the most errors (or the diagonal if the model makes none).
        var cells = from g in Enumerable.Range(0, 2) from p in Enumerable.Range(0, 2)
                    select (g, p, n: gold.Where((x, i) => x == g && pred[i] == p).Count());
        var pick = cells.OrderBy(c => c.g == c.p ? 1 : 0).ThenByDescending(c => c.n).First(c => c.n > 0);
        var cell = cm.Locator("tr").Nth(pick.g + 1).Locator("td").Nth(pick.p);
        await Expect(cell).ToHaveTextAsync(pick.n.ToString(CultureInfo.InvariantCulture));
        await cell.ClickAsync();
        await Expect(Page.Locator("#data-table .chip")).ToHaveTextAsync($"× gold {Labels[pick.g]}, predicted {Labels[pick.p]}");
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(new Regex($"^{pick.n} of \\d+ rows$"));
        var shown = Page.Locator("#data-table .data-row");
        await Expect(shown).ToHaveCountAsync(Math.Min(pick.n, await shown.CountAsync()));
        var labels = await shown.Locator(".c-label").AllTextContentsAsync();
        var predicted = await shown.Locator(".c-predicted").AllTextContentsAsync();
        Assert.InRange(labels.Count, 1, pick.n);
        Assert.All(labels, l => Assert.Equal(Labels[pick.g], l));
        Assert.All(predicted, l => Assert.Equal(Labels[pick.p], l));
        // The first of them is selected; the chip clears the filter.
        await Expect(shown.First).ToHaveClassAsync(SelectedClass());
        await SaveScreenshot(Page, "confusion-cell-filter");
        await Page.Locator("#data-table .chip").ClickAsync();
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(RowCount());
    }

    [Fact]
    public async Task Projector_draws_the_points_and_a_click_selects_one()
    {
        await OpenAsync("sel=0&proj=pca:2&" + Light);
        var projector = Page.Locator("#projector");
        await Expect(projector).ToContainTextAsync("explained variance", new() { Timeout = 60_000 });
        var canvas = projector.Locator("canvas.projector-canvas");
        await SaveScreenshot(canvas, "projector-canvas");
        // Points are opaque discs on a transparent canvas: find one away from the selected point
        // (drawn larger, with a dark ring) and click its centre.
        var target = await canvas.EvaluateAsync<JsonElement>(FindPointScript);
        Assert.True(target.GetProperty("found").GetBoolean(), "the projector canvas has no point to click");
        int painted = target.GetProperty("painted").GetInt32();
        Assert.True(painted > 200, $"only {painted} pixels of points were drawn for 216 examples");
        await Page.Mouse.ClickAsync(target.GetProperty("x").GetSingle(), target.GetProperty("y").GetSingle());
        await Expect(PredictionColumn(0).Locator("h3")).Not.ToHaveTextAsync("selected · 0");
        string header = (await PredictionColumn(0).Locator("h3").TextContentAsync())!;
        string id = header["selected · ".Length..];
        await Expect(Row(id)).ToHaveClassAsync(SelectedClass());
        Assert.Contains($"sel={id}", Page.Url, StringComparison.Ordinal);
        await SaveScreenshot(Page, "projector-point-selected");
    }

    [Fact]
    public async Task A_pinned_datapoint_is_shown_beside_the_selection()
    {
        await OpenAsync("sel=5&" + Light);
        await Row("2").Locator("button[title=\"pin as reference\"]").ClickAsync();
        await Expect(Row("2")).ToHaveClassAsync(new Regex(@"\bpinned\b"));
        await Expect(Row("5")).ToHaveClassAsync(SelectedClass());
        await Expect(PredictionColumn(0).Locator("h3")).ToHaveTextAsync("selected · 5");
        await Expect(PredictionColumn(1).Locator("h3")).ToHaveTextAsync("pinned reference · 2");
        await Expect(PredictionColumn(1).Locator(".pred-label")).ToHaveTextAsync((await PredictAsync(BrowserFixture.Model, DemoText(2))).Label);
        await Expect(PredictionColumn(0).Locator(".pred-label")).ToHaveTextAsync((await PredictAsync(BrowserFixture.Model, DemoText(5))).Label);
        await SaveScreenshot(Page, "pinned-beside-selection");
        // Clicking the pin again unpins.
        await Row("2").Locator("button[title=\"pin as reference\"]").ClickAsync();
        await Expect(Page.Locator("#predictions .compare-col")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task The_url_brings_back_the_selection_pin_and_methods()
    {
        await OpenAsync();
        await Row("7").Locator(".c-text").ClickAsync();
        await Row("4").Locator("button[title=\"pin as reference\"]").ClickAsync();
        await Page.Locator("#salience input[data-method=\"occlusion\"]").CheckAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"#.*sel=7.*pin=4.*methods=[^&]*occlusion"));
        string shared = Page.Url;

        await Page.ReloadAsync();
        await CheckRestored(Page);
        // The same address in a new tab (a shared link) gives the same view.
        var tab = await Context.NewPageAsync();
        await tab.GotoAsync(shared);
        await CheckRestored(tab);
        await SaveScreenshot(tab, "restored-from-url");

        async Task CheckRestored(IPage p)
        {
            await Expect(p.Locator("#data-table .data-row[data-id=\"7\"]")).ToHaveClassAsync(SelectedClass());
            await Expect(p.Locator("#data-table .data-row[data-id=\"4\"]")).ToHaveClassAsync(new Regex(@"\bpinned\b"));
            await Expect(p.Locator("#predictions .compare-col h3").Nth(0)).ToHaveTextAsync("selected · 7");
            await Expect(p.Locator("#predictions .compare-col h3").Nth(1)).ToHaveTextAsync("pinned reference · 4");
            await Expect(p.Locator("#salience input[data-method=\"occlusion\"]")).ToBeCheckedAsync();
            await Expect(p.Locator("#salience .salience-row[data-method=\"occlusion\"]")).ToBeVisibleAsync();
        }
    }

    // A disc centre: an opaque pixel whose 5x5 neighbourhood is opaque, at least 20 px from the
    // selected point's dark ring. Returns page coordinates of that pixel and how many were painted.
    private const string FindPointScript = """
        (c) => {
          const w = c.width, h = c.height, d = c.getContext('2d').getImageData(0, 0, w, h).data;
          const a = (x, y) => d[4 * (y * w + x) + 3];
          let painted = 0, rx = 0, ry = 0, rn = 0;
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            const i = 4 * (y * w + x);
            if (d[i + 3] > 100) painted++;
            if (d[i + 3] > 200 && d[i] < 40 && d[i + 1] < 40 && d[i + 2] < 60) { rx += x; ry += y; rn++; }
          }
          const sx = rn ? rx / rn : -1e9, sy = rn ? ry / rn : -1e9;
          for (let y = 3; y < h - 3; y++) for (let x = 3; x < w - 3; x++) {
            if (Math.hypot(x - sx, y - sy) < 20) continue;
            let ok = true;
            for (let dy = -2; dy <= 2 && ok; dy++) for (let dx = -2; dx <= 2 && ok; dx++) ok = a(x + dx, y + dy) > 100;
            if (ok) {
              const r = c.getBoundingClientRect();
              return { found: true, painted, x: r.left + c.clientLeft + (x + 0.5) * c.clientWidth / w, y: r.top + c.clientTop + (y + 0.5) * c.clientHeight / h };
            }
          }
          return { found: false, painted, x: 0, y: 0 };
        }
        """;

    // Tests about other modules run only the cheapest salience method (the salience and quality
    // modules autorun on every selection), through the URL state like a shared link.
    private const string Light = "methods=saliency";

    private static Regex SelectedClass() => new(@"\bselected\b");
    private static Regex LabelPattern() => new("^(NEGATIVE|POSITIVE)$");
    // Other tests add datapoints to the shared server, so the total is 216 or more.
    private static Regex RowCount() => new(@"^(\d+) of \1 rows$");

    private static string DemoText(int id) => s_demo.Value[id].Text;

    private static readonly Lazy<(string Text, string Label)[]> s_demo = new(() =>
        File.ReadLines(RepoFiles.Path("models/demo-dataset/sentiment.tsv")).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split('\t')).Select(f => (f[0], f[1])).ToArray());

    private async Task<JsonElement> GetAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = App.Server.Url };
        return await http.GetFromJsonAsync<JsonElement>(path);
    }

    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var http = new HttpClient { BaseAddress = App.Server.Url };
        using var res = await http.PostAsJsonAsync(path, body);
        string text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, $"POST {path}: HTTP {(int)res.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The served model's prediction for a text, asked from the API directly.</summary>
    private async Task<(string Label, double Probability)> PredictAsync(string model, string text)
    {
        var r = await PostAsync("/api/predict", new { model, inputs = new[] { new { text } } });
        var p = r.GetProperty("predictions")[0];
        int k = p.GetProperty("labelIndex").GetInt32();
        return (p.GetProperty("label").GetString()!, p.GetProperty("probabilities")[k].GetDouble());
    }

    /// <summary>Gold (from the TSV) and predicted (from the API) class of every demo row, in file order.</summary>
    private async Task<(int[] Gold, int[] Pred)> DatasetPredictionsAsync()
    {
        var rows = s_demo.Value;
        var ids = Enumerable.Range(0, rows.Length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var r = await PostAsync("/api/predict", new { model = BrowserFixture.Model, dataset = BrowserFixture.Dataset, ids });
        Assert.Equal(ids, r.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!).ToArray());
        int[] pred = r.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("labelIndex").GetInt32()).ToArray();
        int[] gold = rows.Select(x => Array.IndexOf(Labels, x.Label)).ToArray();
        Assert.DoesNotContain(-1, gold);
        return (gold, pred);
    }
}
