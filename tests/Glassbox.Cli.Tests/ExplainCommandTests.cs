using System.Text.Json;
using Glassbox.Explain.Explainers;

namespace Glassbox.Cli.Tests;

public class ExplainCommandTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);
    private const string Text = "A gripping, beautifully acted film.";

    [Fact]
    public void JsonEqualsTheExplainerLibrary()
    {
        string dir = Model("distilbert-sst2-tiny");
        var (code, output, err) = CliTestSupport.Run("explain", "sequence-classification", "--model", dir, "--text", Text, "--steps", "20", "--format", "json");
        Assert.True(code == 0, err);
        var json = JsonDocument.Parse(output).RootElement;

        var expected = SequenceClassificationExplainer.FromPretrained(dir, new ExplainerOptions { Steps = 20 }).Explain(Text);
        Assert.Equal(expected.PredictedClassIndex, json.GetProperty("predictedClassIndex").GetInt32());
        Assert.Equal(expected.PredictedClassName, json.GetProperty("predictedClassName").GetString());
        Assert.Equal(expected.PredictedProbability, json.GetProperty("predictedProbability").GetDouble(), 9);
        Assert.Equal(expected.ConvergenceDelta!.Value, json.GetProperty("convergenceDelta").GetDouble(), 6);
        var words = json.GetProperty("wordAttributions").EnumerateArray().ToArray();
        Assert.Equal(expected.WordAttributions.Count, words.Length);
        for (int i = 0; i < words.Length; i++)
        {
            Assert.Equal(expected.WordAttributions[i].Token, words[i].GetProperty("token").GetString());
            Assert.Equal(expected.WordAttributions[i].Score, words[i].GetProperty("score").GetDouble(), 9);
        }
        var provenance = json.GetProperty("provenance");
        Assert.Equal("lig", provenance.GetProperty("method").GetString());
        Assert.StartsWith("sha256:", provenance.GetProperty("modelHash").GetString());
        Assert.Equal("20", provenance.GetProperty("parameters").GetProperty("steps").GetString());
    }

    [Fact]
    public void WordsFlagAggregatesToWords()
    {
        var (code, output, err) = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", "unbelievably good", "--method", "occlusion", "--words");
        Assert.True(code == 0, err);
        var tokens = JsonDocument.Parse(output).RootElement.GetProperty("wordAttributions").EnumerateArray().Select(e => e.GetProperty("token").GetString()!).ToArray();
        Assert.Equal(["unbelievably", "good"], tokens);
    }

    [Fact]
    public void UnknownClassIsBadInputListingValidNames()
    {
        var (code, output, err) = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
            "--text", Text, "--class", "MAYBE");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("MAYBE", err);
        Assert.Contains("NEGATIVE", err);
        Assert.Contains("POSITIVE", err);
    }

    [Fact]
    public void BadInputsExitWithTwo()
    {
        string m = Model("distilbert-sst2-tiny");
        Assert.Equal(2, CliTestSupport.Run("explain", "zero-shot", "--model", Model("roberta-tiny-random-nli"), "--text", Text).Code);
        Assert.Equal(2, CliTestSupport.Run("explain", "sequence-classification", "--model", m).Code);
        Assert.Equal(2, CliTestSupport.Run("explain", "sequence-classification", "--model", m, "--text", "   ").Code);
        Assert.Equal(2, CliTestSupport.Run("explain", "sequence-classification", "--model", m, "--text", Text, "--method", "magic").Code);
        Assert.Equal(2, CliTestSupport.Run("explain", "no-such-task", "--model", m, "--text", Text).Code);
        var (code, _, err) = CliTestSupport.Run("explain", "sequence-classification", "--model", "/no/such/model/dir", "--text", Text);
        Assert.Equal(2, code);
        Assert.Contains("/no/such/model/dir", err);
    }

    [Fact]
    public void OutIsWrittenWholeOrNotAtAll()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-explain-").FullName;
        try
        {
            string path = Path.Combine(dir, "explanation.html");
            var (code, output, err) = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
                "--text", Text, "--steps", "10", "--format", "html", "--out", path);
            Assert.True(code == 0, err);
            Assert.Equal("", output);
            string html = File.ReadAllText(path);
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.Contains("id=\"predicted-label\"", html);
            Assert.Single(Directory.GetFiles(dir));

            // A failing run (unknown class) leaves the existing file as it was and no temporary behind.
            var failed = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
                "--text", Text, "--class", "MAYBE", "--format", "html", "--out", path);
            Assert.Equal(2, failed.Code);
            Assert.Equal(html, File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir));

            var missing = CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"),
                "--text", Text, "--out", Path.Combine(dir, "no", "x.json"));
            Assert.Equal(2, missing.Code);
            Assert.Contains("does not exist", missing.Err);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("multilabel", "bert-tiny-random-multilabel", "--text", "I love you", null, null)]
    [InlineData("zero-shot", "roberta-tiny-random-nli", "--text", "The striker scored twice.", "--labels", "sports,finance")]
    [InlineData("question-answering", "bert-tiny-random-qa", "--text", "Who lives in Berlin?", "--pair", "Alice lives in Berlin.")]
    [InlineData("token-classification", "bert-tiny-random-ner", "--text", "Alice lives in Paris", null, null)]
    [InlineData("image-classification", "vit-tiny-random", "--image", "example.png", "--method", "saliency")]
    public void HtmlForEveryTaskShowsThePrediction(string task, string model, string a1, string v1, string? a2, string? v2)
    {
        if (a1 == "--image") v1 = Path.Combine(Model(model), v1);
        string[] args = ["explain", task, "--model", Model(model), a1, v1, "--steps", "3", "--format", "html", .. (a2 is null ? Array.Empty<string>() : [a2, v2!])];
        var (code, output, err) = CliTestSupport.Run(args);
        Assert.True(code == 0, $"{task}: exit {code}: {err}");
        Assert.StartsWith("<!DOCTYPE html>", output);
        Assert.Contains("id=\"predicted-label\"", output);
        Assert.Contains("Provenance", output);
        Assert.DoesNotContain("https://", output);
        if (task == "image-classification") Assert.Contains("data:image/png;base64,", output);
        else Assert.Contains("Negative", output);
    }

    [Fact]
    public void ImageViewsAreWrittenAsPng()
    {
        string dir = Directory.CreateTempSubdirectory("glassbox-explain-png-").FullName;
        try
        {
            string image = Path.Combine(Model("vit-tiny-random"), "example.png");
            string path = Path.Combine(dir, "view.png");
            var (code, _, err) = CliTestSupport.Run("explain", "image-classification", "--model", Model("vit-tiny-random"), "--image", image,
                "--method", "saliency", "--format", "png", "--out", path, "--view", "heatmap", "--sign", "positive");
            Assert.True(code == 0, err);
            var png = Glassbox.Models.Images.Png.Read(path);
            Assert.Equal((256, 256), (png.Width, png.Height)); // 32×32 input scaled ×8

            (code, _, err) = CliTestSupport.Run("explain", "image-classification", "--model", Model("vit-tiny-random"), "--image", image,
                "--method", "saliency", "--format", "png", "--out", path, "--view", "masked-image", "--side-by-side", "--outlier-threshold", "10");
            Assert.True(code == 0, err);
            Assert.Equal((32 + 4 + 32) * 8, Glassbox.Models.Images.Png.Read(path).Width);

            Assert.Equal(2, CliTestSupport.Run("explain", "image-classification", "--model", Model("vit-tiny-random"), "--image", image, "--format", "png").Code);
            Assert.Equal(2, CliTestSupport.Run("explain", "sequence-classification", "--model", Model("distilbert-sst2-tiny"), "--text", Text, "--format", "png", "--out", path).Code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OtherTasksProduceTheirMaps()
    {
        var qa = Json("question-answering", "bert-tiny-random-qa", "--text", "How many people live in Berlin?",
            "--pair", "Berlin has a population of 3,520,031 registered inhabitants.", "--steps", "5");
        Assert.True(qa.GetProperty("wordAttributions").TryGetProperty("start", out _));
        Assert.True(qa.GetProperty("wordAttributions").TryGetProperty("end", out _));

        var ml = Json("multilabel", "bert-tiny-random-multilabel", "--text", "I love you", "--steps", "5");
        Assert.Equal(7, ml.GetProperty("labels").GetArrayLength());
        Assert.True(ml.GetProperty("wordAttributions").TryGetProperty("joy", out _));

        var zs = Json("zero-shot", "roberta-tiny-random-nli", "--text", "The striker scored twice.", "--labels", "sports,finance", "--steps", "5");
        Assert.Contains(zs.GetProperty("predictedClassName").GetString(), new[] { "sports", "finance" });

        var ner = Json("token-classification", "bert-tiny-random-ner", "--text", "Alice lives in Paris", "--steps", "5");
        Assert.True(ner.GetProperty("predictions").GetArrayLength() > 0);

        var pair = Json("pairwise", "bert-tiny-random-crossencoder", "--text", "a man plays guitar", "--pair", "a person makes music", "--steps", "5");
        Assert.Equal("pairwise", pair.GetProperty("task").GetString());

        var image = Json("image-classification", "vit-tiny-random", "--image", Path.Combine(Model("vit-tiny-random"), "example.png"), "--method", "ig", "--steps", "5");
        Assert.Equal(32, image.GetProperty("pixelAttributions").GetArrayLength());
    }

    private static JsonElement Json(string task, string model, params string[] args)
    {
        var (code, output, err) = CliTestSupport.Run(["explain", task, "--model", Model(model), .. args]);
        Assert.True(code == 0, $"{task}: exit {code}: {err}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
