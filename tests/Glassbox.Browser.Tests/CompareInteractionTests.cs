// Model and datapoint comparison clicked through in Chromium (Playwright) on the demo server: the
// embedded demo classifier `sst2` and the SST-2 classifier from ../shared `sst2-shared` (same
// labels), on the demo dataset. Compare two models from the header, see both predictions side by
// side and the paired metrics /api/compare computes, follow the disagreements into the table; pin
// a datapoint, select another, and read the word diff and each model's prediction delta.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class CompareInteractionTests(BrowserFixture app) : BrowserTest(app)
{
    private const string A = BrowserFixture.Model, B = BrowserFixture.SecondModel;

    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var http = new HttpClient { BaseAddress = App.Server.Url };
        using var res = await http.PostAsJsonAsync(path, body);
        string text = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, $"{path}: HTTP {(int)res.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string F3(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Compare_two_models_side_by_side_with_paired_metrics()
    {
        await OpenAsync("sel=3&methods=saliency");
        // The header offers the other classifier; the language model is another task and says so.
        await Page.Locator(".compare-control summary").ClickAsync();
        await Expect(Page.Locator($".compare-control input[data-model={BrowserFixture.LanguageModel}]")).ToBeDisabledAsync();
        await Expect(Page.Locator(".compare-control")).ToContainTextAsync("text-generation, not classification");
        await Page.Locator($".compare-control input[data-model={B}]").ClickAsync();

        // The app reloads on both models, and the set is in the URL (a shared link restores it).
        await Expect(Page.Locator(".compare-control summary")).ToHaveTextAsync("comparing 2 models");
        await Expect(Page).ToHaveURLAsync(new Regex($"models={A}(,|%2C){B}"));
        await Expect(Page.Locator("#data-table .data-row").First).ToBeVisibleAsync();

        // Predictions: one column per model for the selected datapoint.
        foreach (var m in new[] { A, B })
            await Expect(Page.Locator($"#predictions .compare-col[data-model={m}] .pred-label")).ToHaveTextAsync(new Regex("^(POSITIVE|NEGATIVE)$"));
        // Salience: one block per model under the chosen method.
        foreach (var m in new[] { A, B })
            await Expect(Page.Locator($"#salience .salience-row[data-method=saliency] .salience-model[data-model={m}] .tok").First).ToBeVisibleAsync();
        // Table: a prediction column per model.
        await Expect(Page.Locator($"#data-table .row.head [data-key='pred:{B}']")).ToHaveTextAsync(B);

        // Paired metrics: the numbers /api/compare computes on the same examples.
        var r = await PostAsync("/api/compare", new { models = new[] { A, B }, dataset = BrowserFixture.Dataset });
        var all = r.GetProperty("slices")[0];
        var pair = all.GetProperty("pairs")[0];
        var row = Page.Locator("#comparison tr[data-slice=all] td");
        await Expect(row.Nth(0)).ToHaveTextAsync("all");
        await Expect(row.Nth(1)).ToHaveTextAsync(all.GetProperty("count").GetInt32().ToString(CultureInfo.InvariantCulture));
        await Expect(row.Nth(2)).ToHaveTextAsync(F3(all.GetProperty("models")[0].GetProperty("accuracy").GetDouble()));
        await Expect(row.Nth(3)).ToHaveTextAsync(F3(all.GetProperty("models")[0].GetProperty("macroF1").GetDouble()));
        await Expect(row.Nth(4)).ToHaveTextAsync(F3(all.GetProperty("models")[1].GetProperty("accuracy").GetDouble()));
        await Expect(row.Nth(6)).ToHaveTextAsync(F3(pair.GetProperty("agreement").GetDouble()));
        double shownP = double.Parse(await row.Nth(8).InnerTextAsync(), CultureInfo.InvariantCulture);
        double p = pair.GetProperty("mcNemarPValue").GetDouble();
        Assert.True(Math.Abs(shownP - p) <= 5e-5 + 0.05 * p, $"McNemar p shown {shownP}, API {p}");
        var mcnemar = Page.Locator($"#comparison table.mcnemar[data-pair='{A}|{B}'] td");
        await Expect(mcnemar.Nth(1)).ToHaveTextAsync(pair.GetProperty("onlyFirstCorrect").GetInt32().ToString(CultureInfo.InvariantCulture));
        await Expect(mcnemar.Nth(2)).ToHaveTextAsync(pair.GetProperty("onlySecondCorrect").GetInt32().ToString(CultureInfo.InvariantCulture));
        await SaveScreenshot(Page.Locator("#comparison"), "paired-metrics");

        // The disagreements, one click away: the table shows exactly them, each with two different predictions.
        int disagreements = r.GetProperty("disagreements").GetArrayLength();
        await Expect(Page.Locator("#comparison .disagree-count")).ToContainTextAsync($"The models disagree on {disagreements} of {all.GetProperty("count").GetInt32()} examples");
        Assert.True(disagreements > 0, "the two classifiers were trained differently and disagree somewhere on the demo data");
        await Page.Locator("#comparison button.show-disagreements").ClickAsync();
        await Expect(Page.Locator("#data-table .count")).ToHaveTextAsync(new Regex($"^{disagreements} of \\d+ rows$"));
        var shown = Page.Locator("#data-table .data-row");
        int n = await shown.CountAsync();
        Assert.InRange(n, 1, disagreements);
        for (int i = 0; i < n; i++)
        {
            string a = await shown.Nth(i).Locator(".c-predicted").InnerTextAsync();
            string b = await shown.Nth(i).Locator($".c-pred\\:{B}").InnerTextAsync();
            Assert.NotEqual(a, b);
        }
        await SaveScreenshot(Page, "two-models");
    }

    [Fact]
    public async Task Pin_a_datapoint_and_see_the_differences()
    {
        // A shared link with both models; row 0 ("... warm ... lovely pace.") becomes the reference.
        await OpenAsync($"models={A},{B}&sel=0");
        await Expect(Page.Locator(".compare-control summary")).ToHaveTextAsync("comparing 2 models");
        await Page.Locator("#data-table .data-row[data-id='0'] button[title='pin as reference']").ClickAsync();
        await Page.Locator("#data-table .data-row[data-id='1'] .c-text").ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("sel=1(&|$)"));
        await Expect(Page).ToHaveURLAsync(new Regex("pin=0(&|$)"));

        // Both datapoints, each with both models' predictions.
        await Expect(Page.Locator("#predictions .datapoint-title")).ToHaveTextAsync(["selected · 1", "pinned reference · 0"]);
        await Expect(Page.Locator("#predictions .compare-col")).ToHaveCountAsync(4);

        // Word diff "The acting is warm and the story moves at a lovely pace." → "The acting is stiff and the story crawls along."
        var diff = Page.Locator("#predictions .datapoint-diff");
        await Expect(diff.Locator("h3")).ToHaveTextAsync("differences: pinned 0 → selected 1");
        await Expect(diff.Locator(".word-diff").First).ToHaveTextAsync("The acting is warm stiff and the story moves at a lovely pace. crawls along.");
        await Expect(diff.Locator("del.diff-del")).ToHaveTextAsync(["warm", "moves", "at", "a", "lovely", "pace."]);
        await Expect(diff.Locator("ins.diff-add")).ToHaveTextAsync(["stiff", "crawls", "along."]);
        await Expect(diff).ToContainTextAsync("6 words removed, 3 added");

        // Prediction delta per model: each class's probability change, as /api/predict gives them.
        foreach (var m in new[] { A, B })
        {
            var preds = (await PostAsync("/api/predict", new { model = m, dataset = BrowserFixture.Dataset, ids = new[] { "0", "1" } })).GetProperty("predictions");
            double[] Probs(int k) => preds[k].GetProperty("probabilities").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            double[] before = Probs(0), after = Probs(1);
            var cells = Page.Locator($"#predictions .delta-row[data-model={m}] td");
            for (int c = 0; c < 2; c++)
            {
                double d = after[c] - before[c];
                string label = c == 0 ? "NEGATIVE" : "POSITIVE";
                await Expect(cells.Nth(3)).ToContainTextAsync($"{label} {(d >= 0 ? "+" : "−")}{F3(Math.Abs(d))}");
            }
            string from = preds[0].GetProperty("label").GetString()!, to = preds[1].GetProperty("label").GetString()!;
            await Expect(cells.Nth(1)).ToContainTextAsync(from);
            await Expect(cells.Nth(2)).ToContainTextAsync(to);
            if (from != to) await Expect(cells.Nth(3)).ToContainTextAsync("prediction flips");
        }
        await SaveScreenshot(Page.Locator("#predictions"), "pinned-differences");
        await SaveScreenshot(Page, "pinned-datapoint");
    }
}
