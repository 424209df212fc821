// The embeddings projector in Chromium: a lasso drawn with the mouse filters the table to the
// points inside it; colouring by a field draws the legend the data implies; and SST-2 dev (872
// rows) gets its UMAP from a server-side job behind a progress bar while a row can be selected
// and explained.
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Glassbox.Server;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class ProjectorBrowserTests(BrowserFixture app) : BrowserTest(app)
{
    private const int CanvasW = 460, CanvasH = 340;

    private sealed record Point(string Id, double X, double Y);

    private async Task<Point[]> DrawnPoints()
    {
        var json = await Page.Locator("#projector canvas").EvaluateAsync<JsonElement>("c => c.projectorPoints()");
        return json.EnumerateArray().Select(p => new Point(p.GetProperty("id").GetString()!, p.GetProperty("x").GetDouble(), p.GetProperty("y").GetDouble())).ToArray();
    }

    private static bool Inside(double x, double y, (double X, double Y)[] poly)
    {
        bool inside = false;
        for (int i = 0, j = poly.Length - 1; i < poly.Length; j = i++)
            if ((poly[i].Y > y) != (poly[j].Y > y) && x < (poly[j].X - poly[i].X) * (y - poly[i].Y) / (poly[j].Y - poly[i].Y) + poly[i].X) inside = !inside;
        return inside;
    }

    private static double EdgeDistance(double x, double y, (double X, double Y)[] poly)
    {
        double best = double.MaxValue;
        for (int i = 0, j = poly.Length - 1; i < poly.Length; j = i++)
        {
            double dx = poly[i].X - poly[j].X, dy = poly[i].Y - poly[j].Y;
            double t = Math.Clamp(((x - poly[j].X) * dx + (y - poly[j].Y) * dy) / (dx * dx + dy * dy), 0, 1);
            double ex = x - (poly[j].X + t * dx), ey = y - (poly[j].Y + t * dy);
            best = Math.Min(best, Math.Sqrt(ex * ex + ey * ey));
        }
        return best;
    }

    [Fact]
    public async Task Lasso_drawn_with_the_mouse_filters_the_table_to_the_points_inside()
    {
        await OpenAsync("proj=pca:2");
        var canvas = Page.Locator("#projector canvas");
        await Expect(canvas).ToHaveAttributeAsync("data-state", "drawn", new() { Timeout = 60_000 });
        var points = await DrawnPoints();
        Assert.Equal(216, points.Length);
        await Expect(Page.Locator("#projector .proj-status")).ToContainTextAsync("explained variance");

        // A free-hand loop (an irregular 9-gon) around the middle of the cloud, in canvas pixels.
        double cx = points.Average(p => p.X), cy = points.Average(p => p.Y);
        double[] radii = [90, 60, 110, 70, 95, 55, 100, 80, 65];
        var poly = radii.Select((r, k) => (X: cx + r * Math.Cos(2 * Math.PI * k / radii.Length), Y: cy + 0.8 * r * Math.Sin(2 * Math.PI * k / radii.Length))).ToArray();
        await Page.Locator("#projector button.lasso").ClickAsync();
        await canvas.ScrollIntoViewIfNeededAsync();
        var box = (await canvas.BoundingBoxAsync())!;
        Assert.True(box.Y >= 0 && box.Y + box.Height <= BrowserFixture.Height, $"the canvas should be in the viewport to draw on it: {box.Y}..{box.Y + box.Height}");
        (float, float) Client((double X, double Y) p) => ((float)(box.X + p.X * box.Width / CanvasW), (float)(box.Y + p.Y * box.Height / CanvasH));

        var (x0, y0) = Client(poly[0]);
        await Page.Mouse.MoveAsync(x0, y0);
        await Page.Mouse.DownAsync();
        foreach (var v in poly.Skip(1).Append(poly[0]))
        {
            var (x, y) = Client(v);
            await Page.Mouse.MoveAsync(x, y, new() { Steps = 8 });
        }
        await Page.Mouse.UpAsync();

        // Points well inside must be kept, points well outside dropped; within 2 px of the line either way.
        var core = points.Where(p => Inside(p.X, p.Y, poly) && EdgeDistance(p.X, p.Y, poly) > 2).Select(p => p.Id).ToHashSet();
        var hull = points.Where(p => Inside(p.X, p.Y, poly) || EdgeDistance(p.X, p.Y, poly) <= 2).Select(p => p.Id).ToHashSet();
        Assert.True(core.Count >= 5 && hull.Count < points.Length, $"the lasso should hold some but not all points: {core.Count} inside, {hull.Count} with the border");
        var chip = Page.Locator("#data-table .chip");
        await Expect(chip).ToHaveTextAsync(new Regex(@"lasso: \d+ points?"));
        int kept = int.Parse(Regex.Match(await chip.InnerTextAsync(), @"lasso: (\d+)").Groups[1].Value);
        Assert.InRange(kept, core.Count, hull.Count);
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(new Regex($"^{kept} of \\d+ rows"));
        var shown = await Page.Locator("#data-table .data-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.NotEmpty(shown);
        Assert.All(shown, id => Assert.Contains(id, hull));
        // the selection moved into the lasso, and the projector's status says how many were taken
        string selected = (await Page.Locator("#data-table .data-row.selected").GetAttributeAsync("data-id"))!;
        Assert.Contains(selected, hull);
        await Expect(Page.Locator("#projector .proj-status")).ToContainTextAsync($"{kept} points selected");
        await SaveScreenshot(Page.Locator("#projector"), "lasso");

        // The chip clears the filter: every row is back.
        await chip.ClickAsync();
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(new Regex(@"^(\d+) of \1 rows"));
    }

    [Fact]
    public async Task Colour_by_field_draws_a_palette_legend_for_categories_and_a_range_for_numbers()
    {
        await OpenAsync("proj=pca:2");
        await Expect(Page.Locator("#projector canvas")).ToHaveAttributeAsync("data-state", "drawn", new() { Timeout = 60_000 });
        var rows = File.ReadLines(RepoFiles.Path("models/demo-dataset/sentiment.tsv")).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray();

        // gold label: one swatch per label with its count, in the model's label order
        await Page.Locator("#projector select.colour").SelectOptionAsync("label");
        var items = Page.Locator("#projector .legend .legend-item");
        await Expect(items).ToHaveCountAsync(2);
        var texts = await items.AllInnerTextsAsync();
        var labels = rows.GroupBy(r => r[1].Trim()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(labels.OrderBy(kv => kv.Key == "NEGATIVE" ? 0 : 1).Select(kv => $"{kv.Key} ({kv.Value})"), texts.Select(t => t.Trim()));
        var swatches = await Page.Locator("#projector .legend .swatch").EvaluateAllAsync<string[]>("s => s.map(e => getComputedStyle(e).backgroundColor)");
        Assert.Equal(2, swatches.Distinct().Count());
        // the canvas holds points in both swatch colours (drawn at 80% opacity on a transparent canvas: the RGB is the colour's)
        var counts = await Page.Locator("#projector canvas").EvaluateAsync<int[]>(
            """
            (c, colours) => {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              return colours.map(col => {
                const [r, g, b] = col.match(/\d+/g).map(Number);
                let n = 0;
                for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.abs(d[i] - r) <= 3 && Math.abs(d[i + 1] - g) <= 3 && Math.abs(d[i + 2] - b) <= 3) n++;
                return n;
              });
            }
            """, swatches);
        Assert.All(counts, n => Assert.True(n > 20, $"a label's colour covers only {n} pixels of the canvas"));
        await SaveScreenshot(Page.Locator("#projector"), "colour-label");

        // length (words): a continuous ramp between the shortest and the longest sentence
        await Page.Locator("#projector select.colour").SelectOptionAsync("length");
        int[] words = rows.Select(r => r[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length).ToArray();
        await Expect(Page.Locator("#projector .legend .ramp")).ToBeVisibleAsync();
        await Expect(Page.Locator("#projector .legend .legend-min")).ToHaveTextAsync(words.Min().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(Page.Locator("#projector .legend .legend-max")).ToHaveTextAsync(words.Max().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await SaveScreenshot(Page.Locator("#projector"), "colour-length");

        // correctness: green for correct, red for wrong, counts that add up to the dataset
        await Page.Locator("#projector select.colour").SelectOptionAsync("correct");
        var correctness = await Page.Locator("#projector .legend .legend-item").AllInnerTextsAsync();
        Assert.Equal(rows.Length, correctness.Sum(t => int.Parse(Regex.Match(t, @"\((\d+)\)").Groups[1].Value)));
        Assert.StartsWith("correct", correctness[0].Trim());
    }

    [Fact]
    public async Task Sst2_dev_gets_its_umap_behind_a_progress_bar_while_a_row_can_be_selected_and_explained()
    {
        // A server of its own, as `glassbox serve --model sst2=models/sst2-distilbert-tiny --data dev=.../dev.tsv` would run it.
        await using var server = GlassboxServer.Create(new ServerOptions
        {
            Port = 0,
            Models = [new("sst2", RepoFiles.Path("models/sst2-distilbert-tiny"))],
            Datasets = [new("dev", SharedFiles.Data("sst2/dev.tsv"))],
        });
        await server.StartAsync();
        var clock = Stopwatch.StartNew();
        await Page.GotoAsync(new Uri(server.Url, "/#model=sst2&dataset=dev&methods=lig").AbsoluteUri);
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(new Regex("^872 of 872 rows"));

        // The page's polls of the job are held back until the row below has been explained, so the projector is
        // still "computing" in the page however fast the server is (on a quiet machine the whole job takes ~5 s).
        var explained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Page.RouteAsync(new Regex("/api/project/jobs/"), async route =>
        {
            if (route.Request.Method == "GET") await explained.Task.WaitAsync(TimeSpan.FromSeconds(120));
            await route.ContinueAsync();
        });

        // UMAP 2-D is the projector's default: its job starts on the server by itself and shows a progress bar.
        await Expect(Page.Locator("#projector select.dims")).ToHaveValueAsync("umap:2");
        Assert.Contains("proj=umap%3A2", Page.Url);
        var bar = Page.Locator("#projector .proj-progress");
        await Expect(bar).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var canvas = Page.Locator("#projector canvas");
        await Expect(canvas).ToHaveAttributeAsync("data-state", "computing");
        await SaveScreenshot(Page.Locator("#projector"), "sst2-dev-umap-progress");

        // While it runs, the page answers: select another row and see its prediction and salience.
        await Page.Locator("#data-table .data-row").Nth(3).ClickAsync();
        string id = (await Page.Locator("#data-table .data-row.selected").GetAttributeAsync("data-id"))!;
        await Expect(Page.Locator("#predictions .pred-label").First).ToHaveTextAsync(new Regex("^(positive|negative|POSITIVE|NEGATIVE)$", RegexOptions.IgnoreCase));
        string stateWhenPredicted = (await canvas.GetAttributeAsync("data-state"))!;
        double progressWhenPredicted = double.Parse((await bar.GetAttributeAsync("aria-valuenow")) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(stateWhenPredicted == "computing",
            $"row {id}'s prediction should show while the UMAP is still computing (state {stateWhenPredicted}, {progressWhenPredicted}% after {clock.Elapsed.TotalSeconds:F1} s)");
        await Expect(Page.Locator("#salience .salience-row[data-method=lig] .tok").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        Assert.Equal("computing", await canvas.GetAttributeAsync("data-state"));
        explained.SetResult();

        // Then the 872 points are drawn and the bar goes away.
        await Expect(canvas).ToHaveAttributeAsync("data-state", "drawn", new() { Timeout = 120_000 });
        await Expect(bar).ToBeHiddenAsync();
        var points = await DrawnPoints();
        Assert.Equal(872, points.Length);
        Assert.True(points.Select(p => (Math.Round(p.X), Math.Round(p.Y))).Distinct().Count() > 400, "the UMAP points should spread over the canvas");
        await Expect(Page.Locator("#projector .proj-status")).ToContainTextAsync("872 points in");
        await SaveScreenshot(Page.Locator("#projector"), "sst2-dev-umap-drawn");
        await SaveScreenshot(Page, "sst2-dev-page");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"SST-2 dev took {clock.Elapsed.TotalSeconds:F1} s to project");
    }
}
