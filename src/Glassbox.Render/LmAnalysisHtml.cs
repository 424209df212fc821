// Ecco's views of a generation on one self-contained page: input attributions per generated
// token and method (tokens shaded by their share of the attribution), the logit lens (each
// layer's top predictions at a position), rankings of the generated tokens per layer, and, when
// asked, neuron factors (NMF components shaded over the tokens).
using Glassbox.Explain.LanguageModels;

namespace Glassbox.Render;

public sealed record LmViewOptions
{
    /// <summary>Top predictions per layer in the logit-lens table.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>Use Ecco's formula (no final norm on intermediate layers) for the lens and rankings.</summary>
    public bool EccoCompatible { get; init; }
    /// <summary>NMF components to show (0 = no neuron-factor section).</summary>
    public int NmfComponents { get; init; }
}

public static class LmAnalysisHtml
{
    public static string Render(LmAnalysis a, string modelName, LmViewOptions? options = null)
    {
        var o = options ?? new LmViewOptions();
        var page = new HtmlPage("Glassbox language-model analysis");
        string generated = string.Concat(a.Tokens[a.FirstGeneratedIndex..]);
        page.Prediction(generated, a.Steps.Count > 0 ? a.Steps[^1].Probability : null, "Generated");
        page.Facts("Generation", [
            ("model", modelName),
            ("input tokens", a.InputTokenCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("generated tokens", (a.TokenIds.Length - a.FirstGeneratedIndex).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("finish reason", a.FinishReason.ToString()),
        ]);
        page.Tokens("Sequence (input, then generated)", a.Tokens.Select((t, i) => new ScoredToken(t, i >= a.FirstGeneratedIndex ? 0.6 : 0)).ToArray());

        foreach (var (method, rows) in a.Attributions)
        {
            var tableRows = rows.Select((r, k) =>
            {
                double max = r.Normalized.Length == 0 ? 1 : Math.Max(1e-12, r.Normalized.Max());
                var cells = r.Normalized.Select((v, i) => new ScoredToken(a.Tokens[i], v / max, v)).ToArray();
                int pos = a.FirstGeneratedIndex + k;
                return (IReadOnlyList<HtmlCell>)[HtmlCell.Text(a.Tokens[pos], strong: true), HtmlCell.Number(r.TargetProbability), HtmlCell.Tokens(cells)];
            });
            page.Table($"Input attributions: {method}", ["generated token", "probability", "attribution over earlier tokens (share of the total)"], tableRows, legend: true);
        }

        int last = a.TokenIds.Length - 1;
        var lens = a.LayerPredictions(last - 1 >= 0 ? last - 1 : 0, o.TopK, o.EccoCompatible);
        page.Table($"Logit lens: predictions for the token after '{a.Tokens[Math.Max(0, last - 1)]}' at each layer",
            ["layer", .. Enumerable.Range(1, o.TopK).Select(i => $"#{i}")],
            lens.Select(p => (IReadOnlyList<HtmlCell>)[HtmlCell.Text((p.Layer + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                .. p.TopTokens.Select((t, i) => HtmlCell.Text($"{t} ({HtmlPage.FormatNumber(p.TopProbabilities[i], "0.000")})"))]));

        var ranks = a.Rankings(o.EccoCompatible);
        page.Table("Rankings: rank of each generated token at each layer (1 = top prediction)",
            ["layer", .. a.Tokens[a.FirstGeneratedIndex..]],
            ranks.Select((row, l) => (IReadOnlyList<HtmlCell>)[HtmlCell.Text((l + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                .. row.Select(r => HtmlCell.Number(r, "0"))]));

        if (o.NmfComponents > 0)
        {
            var f = a.Nmf(o.NmfComponents);
            var factorRows = f.Components.Select((c, k) =>
            {
                double max = Math.Max(1e-12, c.Max());
                int n = Math.Min(c.Length, a.Tokens.Length);
                return (IReadOnlyList<HtmlCell>)[HtmlCell.Text($"factor {k + 1}"), HtmlCell.Tokens(Enumerable.Range(0, n).Select(i => new ScoredToken(a.Tokens[i], c[i] / max, c[i])).ToArray())];
            });
            page.Table($"Neuron activation factors (NMF, {o.NmfComponents} components)", ["factor", "activation over tokens"], factorRows, legend: true);
        }
        return page.ToHtml();
    }
}
