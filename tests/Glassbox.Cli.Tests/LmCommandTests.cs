// `glassbox lm`: end to end against Ecco's golden on the trained Shakespeare GPT-2 (attributions,
// Ecco-compatible rankings and layer predictions, NMF), the other verbs' shapes, and bad input
// (exit code 2 with a message naming the problem).
using System.Text.Json;

namespace Glassbox.Cli.Tests;

public class LmCommandTests
{
    private static string Model => Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny");
    private static readonly Lazy<JsonElement> s_golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(CliTestSupport.SharedDir, "golden", "ecco", "gpt2-shakespeare-tiny.json"))).RootElement.GetProperty("cases")[0].Clone());
    private const string Prompt = "First Citizen:\nBefore we proceed";

    private static JsonElement Ok(params string[] args)
    {
        var (code, output, err) = CliTestSupport.Run(args);
        Assert.True(code == 0, $"exit {code}: {err}");
        return CliTestSupport.Lines(output).Single();
    }

    private static string Bad(params string[] args)
    {
        var (code, output, err) = CliTestSupport.Run(args);
        Assert.True(code == 2, $"exit {code}, expected 2 (bad input): {err}");
        Assert.Equal("", output);
        return err;
    }

    [Fact]
    public void AttributeMatchesEcco()
    {
        var j = Ok("lm", "attribute", "--model", Model, "--prompt", Prompt, "--max-new-tokens", "6", "--method", "ig,saliency,grad_x_input");
        var golden = s_golden.Value;
        Assert.Equal(golden.GetProperty("token_ids").EnumerateArray().Select(x => x.GetInt32()), j.GetProperty("tokenIds").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(golden.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()), j.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()));
        foreach (var method in new[] { "ig", "saliency", "grad_x_input" })
        {
            var want = golden.GetProperty("attributions").GetProperty(method).EnumerateArray().ToArray();
            var got = j.GetProperty("attributions").GetProperty(method).EnumerateArray().ToArray();
            var raw = j.GetProperty("rawAttributions").GetProperty(method).EnumerateArray().ToArray();
            Assert.Equal(want.Length, got.Length);
            for (int t = 0; t < want.Length; t++)
            {
                var w = want[t].EnumerateArray().Select(x => x.GetDouble()).ToArray();
                var g = got[t].EnumerateArray().Select(x => x.GetDouble()).ToArray();
                Assert.Equal(w.Length, g.Length);
                Assert.Equal(w.Length, raw[t].GetArrayLength());
                for (int p = 0; p < w.Length; p++) Assert.True(Math.Abs(w[p] - g[p]) <= 1e-5, $"{method} token {t} position {p}: Ecco {w[p]}, glassbox {g[p]}");
            }
        }
        Assert.Equal(6, j.GetProperty("convergenceDeltas").GetArrayLength());
        Assert.Equal(6, j.GetProperty("steps").GetArrayLength());
    }

    [Fact]
    public void EccoCompatibleRankingsAndLayerPredictionsMatchEcco()
    {
        var golden = s_golden.Value;
        var r = Ok("lm", "rankings", "--model", Model, "--prompt", Prompt, "--max-new-tokens", "6", "--ecco-compatible");
        Assert.True(r.GetProperty("eccoCompatible").GetBoolean());
        var want = golden.GetProperty("rankings_formula").GetProperty("rankings").EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        var got = r.GetProperty("rankings").EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        Assert.Equal(want, got);

        var lp = golden.GetProperty("layer_predictions")[1];
        int position = lp.GetProperty("position").GetInt32();
        var p = Ok("lm", "layer-predictions", "--model", Model, "--prompt", Prompt, "--max-new-tokens", "6", "--ecco-compatible", "--position", position.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(position, p.GetProperty("position").GetInt32());
        var layers = p.GetProperty("layerPredictions").EnumerateArray().ToArray();
        Assert.Equal(4, layers.Length);
        for (int l = 0; l < 4; l++)
        {
            Assert.Equal(lp.GetProperty("layers")[l].GetProperty("top_ids").EnumerateArray().Select(x => x.GetInt32()), layers[l].GetProperty("topIds").EnumerateArray().Select(x => x.GetInt32()));
            Assert.Equal(10, layers[l].GetProperty("topTokens").GetArrayLength());
        }
    }

    [Fact]
    public void NmfAndRankingsWatchRun()
    {
        string outFile = Path.Combine(Path.GetTempPath(), $"glassbox-lm-{Guid.NewGuid():N}.json");
        var (code, output, err) = CliTestSupport.Run("lm", "nmf", "--model", Model, "--prompt", Prompt, "--max-new-tokens", "6", "--components", "4", "--out", outFile);
        Assert.True(code == 0, err);
        Assert.Equal("", output);
        var j = JsonDocument.Parse(File.ReadAllText(outFile)).RootElement;
        File.Delete(outFile);
        double want = s_golden.Value.GetProperty("nmf").GetProperty("reconstruction_err").GetDouble();
        Assert.True(Math.Abs(j.GetProperty("reconstructionError").GetDouble() - want) <= 1e-5 * want);
        Assert.Equal(4, j.GetProperty("components").GetArrayLength());
        Assert.Equal(14, j.GetProperty("components")[0].GetArrayLength());
        Assert.Equal(14, j.GetProperty("componentTokens").GetArrayLength());

        var w = Ok("lm", "rankings-watch", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "3", "--watch", "Ġthe,Ġmy", "--position", "3");
        Assert.Equal(4, w.GetProperty("rankings").GetArrayLength());
        Assert.All(w.GetProperty("rankings").EnumerateArray(), row => Assert.Equal(2, row.GetArrayLength()));
        var g = Ok("lm", "generate", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "3");
        Assert.Equal(3, g.GetProperty("generatedIds").GetArrayLength());
        Assert.False(g.TryGetProperty("attributions", out _));
    }

    [Fact]
    public void BadInputExitsWithTwo()
    {
        Assert.Contains("not found", Bad("lm", "generate", "--model", "/nonexistent/model", "--prompt", "x"));
        Assert.Contains("--max-new-tokens", Bad("lm", "generate", "--model", Model, "--prompt", "x", "--max-new-tokens", "0"));
        Assert.Contains("empty", Bad("lm", "generate", "--model", Model, "--prompt", ""));
        Assert.Contains("lime", Bad("lm", "attribute", "--model", Model, "--prompt", "x", "--method", "lime"));
        Assert.Contains("--watch", Bad("lm", "rankings-watch", "--model", Model, "--prompt", "x"));
        Assert.Contains("outside the generated tokens", Bad("lm", "layer-predictions", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--position", "0"));
        Assert.Contains("not a token of the vocabulary", Bad("lm", "rankings-watch", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--watch", "xyzzy plugh"));
        Assert.Contains("256", Bad("lm", "generate", "--model", Model, "--prompt", string.Join(" ", Enumerable.Repeat("Citizen", 300))));
        Assert.Contains("neurons", Bad("lm", "nmf", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--components", "99999"));
    }
}

public class LmCommandHtmlTests
{
    private static string Model => Path.Combine(CliTestSupport.SharedDir, "models", "gpt2-shakespeare-tiny");

    [Fact]
    public void HtmlFormatWritesEveryEccoViewAtomically()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-lm-html").FullName;
        try
        {
            string outPath = Path.Combine(dir, "lm.html");
            var stdout = new StringWriter(); var stderr = new StringWriter();
            int code = Glassbox.Cli.Program.Run(["lm", "nmf", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--method", "saliency,ig", "--components", "2",
                "--watch", "Ġthe,Ġand", "--top-k", "3", "--format", "html", "--out", outPath], stdout, stderr);
            Assert.True(code == 0, stderr.ToString());
            string html = File.ReadAllText(outPath);
            Assert.StartsWith("<!DOCTYPE html>", html);
            foreach (var id in new[] { "lm-attributions", "lm-bars", "lm-layer-predictions", "lm-rankings", "lm-rankings-watch", "lm-nmf" })
                Assert.Contains($"<section id=\"{id}\"", html);
            Assert.Contains("<option value=\"saliency\">", html);                      // both methods in the selector
            Assert.Contains("<option value=\"1\">Factor 2</option></select>", html);   // --components 2
            Assert.Contains("> the</text>", html);                                       // --watch, decoded
            Assert.Matches("<tr><th>Layer 0</th><td class=\"lm-logit[^<]*<span[^<]*</span><span[^<]*</span><span[^<]*</span></td>(<td[^>]*><span[^<]*</span><span[^<]*</span><span[^<]*</span></td>){2}</tr>", html); // --top-k 3
            Assert.Single(Directory.GetFiles(dir)); // no temp file left behind
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void HtmlRankingsWatchAtAPosition()
    {
        var (code, output, err) = CliTestSupport.Run("lm", "rankings-watch", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "3", "--watch", "Ġthe", "--position", "3", "--format", "html");
        Assert.True(code == 0, err);
        Assert.Contains("<section id=\"lm-rankings-watch\"", output);
        Assert.Contains("as the model chose the token at position 3", output);
        Assert.Contains("<option value=\"3\" selected>", output);                  // the lens opens at --position
        Assert.DoesNotContain("<section id=\"lm-nmf\"", output);                   // no activations captured outside nmf
    }

    [Fact]
    public void HtmlBadInputIsExitTwoAndNoFile()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-lm-html").FullName;
        try
        {
            string outPath = Path.Combine(dir, "lm.html");
            var (code, output, err) = CliTestSupport.Run("lm", "rankings-watch", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--watch", "xyzzy plugh", "--format", "html", "--out", outPath);
            Assert.Equal(2, code);
            Assert.Contains("not a token of the vocabulary", err);
            (code, _, err) = CliTestSupport.Run("lm", "generate", "--model", Model, "--prompt", "ROMEO:", "--max-new-tokens", "2", "--position", "0", "--format", "html", "--out", outPath);
            Assert.Equal(2, code);
            Assert.Contains("outside the generated tokens", err);
            Assert.Empty(Directory.GetFiles(dir));
            Assert.Equal("", output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
