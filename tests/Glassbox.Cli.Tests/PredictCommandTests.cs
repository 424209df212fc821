using System.Text.Json;

namespace Glassbox.Cli.Tests;

public class PredictCommandTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);

    private static JsonElement Golden(string model, string file = "forward.json") =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Model(model), file))).RootElement.Clone();

    /// <summary>Row 0 of case 0: ids without padding, and its logits.</summary>
    private static (int[] Ids, JsonElement Logits) Case0(JsonElement golden, string logits = "logits")
    {
        var c = golden.GetProperty("cases")[0];
        var ids = c.GetProperty("inputs").GetProperty("input_ids")[0].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var mask = c.GetProperty("inputs").GetProperty("attention_mask")[0].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (ids.Where((_, i) => mask[i] == 1).ToArray(), c.GetProperty(logits)[0]);
    }

    private static JsonElement Predict(params string[] args)
    {
        var (code, output, err) = CliTestSupport.Run(["predict", .. args]);
        Assert.True(code == 0, $"exit {code}: {err}");
        return CliTestSupport.Lines(output).Single();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    private static int ArgMax(double[] v) => Array.IndexOf(v, v.Max());

    [Fact]
    public void SingleLabelClassificationMatchesTheGolden()
    {
        var (ids, logits) = Case0(Golden("distilbert-tiny-random-sst2"));
        var r = Predict("--model", Model("distilbert-tiny-random-sst2"), "--text", "I love you, I like you", "--format", "json");
        Assert.Equal(ids, Ints(r.GetProperty("inputIds")));
        Assert.Equal(ids.Length, r.GetProperty("tokens").GetArrayLength());
        var expected = Doubles(logits);
        var actual = Doubles(r.GetProperty("logits"));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4);
        Assert.Equal(1.0, Doubles(r.GetProperty("probabilities")).Sum(), 1e-6);
        Assert.Equal(ArgMax(expected), r.GetProperty("predicted").GetProperty("index").GetInt32());
        Assert.Equal(r.GetProperty("labels")[ArgMax(expected)].GetString(), r.GetProperty("predicted").GetProperty("label").GetString());
    }

    [Fact]
    public void MultiLabelUsesSigmoidAboveOneHalf()
    {
        var (_, logits) = Case0(Golden("bert-tiny-random-multilabel"));
        var r = Predict("--model", Model("bert-tiny-random-multilabel"), "--text", "I love you, I like you");
        string[] names = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"];
        var expected = Doubles(logits).Select((v, i) => (v, i)).Where(t => 1 / (1 + Math.Exp(-t.v)) > 0.5).Select(t => names[t.i]).ToArray();
        Assert.Equal(expected, r.GetProperty("predicted").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.NotEmpty(expected);
        var probs = Doubles(r.GetProperty("probabilities"));
        Assert.Equal(7, probs.Length);
        Assert.NotEqual(1.0, probs.Sum(), 3);
    }

    [Fact]
    public void RegressionPrintsTheValue()
    {
        var (_, logits) = Case0(Golden("bert-tiny-random-regression"));
        var r = Predict("--model", Model("bert-tiny-random-regression"), "--text", "I love you, I like you");
        Assert.Equal("regression", r.GetProperty("task").GetString());
        Assert.Equal(Doubles(logits)[0], r.GetProperty("predicted").GetDouble(), 1e-4);
    }

    [Fact]
    public void PairInputMatchesTheCrossEncoderGolden()
    {
        var (ids, logits) = Case0(Golden("bert-tiny-random-crossencoder"));
        var r = Predict("--model", Model("bert-tiny-random-crossencoder"), "--text", "How many people live in Berlin?",
            "--pair", "Berlin has a population of 3,520,031 registered inhabitants.");
        Assert.Equal(ids, Ints(r.GetProperty("inputIds")));
        double logit = Doubles(logits)[0];
        Assert.Equal(logit, Doubles(r.GetProperty("logits"))[0], 1e-4);
        Assert.Equal(1 / (1 + Math.Exp(-logit)), r.GetProperty("predicted").GetProperty("score").GetDouble(), 1e-4);
    }

    [Fact]
    public void QuestionAnsweringPrintsTheBestContextSpan()
    {
        const string context = "Berlin has a population of 3,520,031 registered inhabitants.";
        var golden = Golden("bert-tiny-random-qa");
        var (ids, start) = Case0(golden, "start_logits");
        var end = golden.GetProperty("cases")[0].GetProperty("end_logits")[0];
        var r = Predict("--model", Model("bert-tiny-random-qa"), "--text", "How many people live in Berlin?", "--pair", context);
        Assert.Equal(ids, Ints(r.GetProperty("inputIds")));

        // Best span over context tokens (after the first [SEP], before the last), start ≤ end < start + 30.
        double[] s = Doubles(start), e = Doubles(end);
        int sep = Array.IndexOf(ids, 102);
        int bs = -1, be = -1; double best = double.NegativeInfinity;
        for (int i = sep + 1; i < ids.Length - 1; i++)
            for (int j = i; j < Math.Min(ids.Length - 1, i + 30); j++)
                if (s[i] + e[j] > best) { best = s[i] + e[j]; bs = i; be = j; }
        var p = r.GetProperty("predicted");
        Assert.Equal(bs, p.GetProperty("startToken").GetInt32());
        Assert.Equal(be, p.GetProperty("endToken").GetInt32());
        int cs = p.GetProperty("start").GetInt32(), ce = p.GetProperty("end").GetInt32();
        Assert.Equal(context[cs..ce], p.GetProperty("answer").GetString());
        Assert.Equal(s.Length, r.GetProperty("logits").GetProperty("start").GetArrayLength());
    }

    [Fact]
    public void TokenClassificationTagsEveryToken()
    {
        var (ids, logits) = Case0(Golden("bert-tiny-random-ner"));
        var r = Predict("--model", Model("bert-tiny-random-ner"), "--text", "I love you, I like you");
        var tags = r.GetProperty("predicted").EnumerateArray().ToArray();
        Assert.Equal(ids.Length, tags.Length);
        for (int i = 0; i < ids.Length; i++)
            Assert.Equal(ArgMax(Doubles(logits[i])), tags[i].GetProperty("index").GetInt32());
        Assert.False(string.IsNullOrEmpty(tags[1].GetProperty("tag").GetString()));
    }

    [Fact]
    public void GreedyGenerationMatchesTheGolden()
    {
        var golden = Golden("gpt2-tiny-random", "generation.json");
        var r = Predict("--model", Model("gpt2-tiny-random"), "--text", "The capital of France is", "--max-new-tokens", "8");
        Assert.Equal(Ints(golden.GetProperty("prompt_ids")), Ints(r.GetProperty("inputIds")));
        Assert.Equal(Ints(golden.GetProperty("generated_ids")), Ints(r.GetProperty("generatedIds")));
        Assert.False(string.IsNullOrEmpty(r.GetProperty("generatedText").GetString()));
        var steps = r.GetProperty("steps").EnumerateArray().ToArray();
        var goldSteps = golden.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(goldSteps.Length, steps.Length);
        for (int k = 0; k < steps.Length; k++)
        {
            Assert.Equal(Ints(goldSteps[k].GetProperty("top_ids")), Ints(steps[k].GetProperty("topIds")));
            var gp = Doubles(goldSteps[k].GetProperty("top_probabilities"));
            var ap = Doubles(steps[k].GetProperty("topProbabilities"));
            for (int i = 0; i < gp.Length; i++) Assert.Equal(gp[i], ap[i], 1e-4);
        }
        Assert.Equal(Ints(golden.GetProperty("generated_ids"))[0], r.GetProperty("predicted").GetProperty("id").GetInt32());
    }

    [Fact]
    public void ImageClassificationMatchesTheGolden()
    {
        var c = Golden("vit-tiny-random").GetProperty("cases")[0];
        var expected = Doubles(c.GetProperty("logits")[0]);
        var r = Predict("--model", Model("vit-tiny-random"), "--image", Path.Combine(Model("vit-tiny-random"), "example.png"));
        var actual = Doubles(r.GetProperty("logits"));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4);
        Assert.Equal(ArgMax(expected), r.GetProperty("predicted").GetProperty("index").GetInt32());
        Assert.Equal(new[] { "red", "green", "blue" }[ArgMax(expected)], r.GetProperty("predicted").GetProperty("label").GetString());

        var (code, _, err) = CliTestSupport.Run("predict", "--model", Model("vit-tiny-random"), "--text", "hi");
        Assert.Equal(2, code);
        Assert.Contains("--image", err);
    }

    [Fact]
    public void FillMaskGivesTopTokensPerMask()
    {
        var r = Predict("--model", Model("bert-tiny-random-mlm"), "--text", "paris is the [MASK] of france");
        var masks = r.GetProperty("predicted").EnumerateArray().ToArray();
        Assert.Single(masks);
        Assert.Equal(4, masks[0].GetProperty("position").GetInt32());
        var p = Doubles(masks[0].GetProperty("topProbabilities"));
        Assert.Equal(10, p.Length);
        Assert.True(p.Zip(p.Skip(1)).All(t => t.First >= t.Second));
        Assert.Equal(10, masks[0].GetProperty("topLogits").GetArrayLength());
    }

    [Fact]
    public void MissingModelFolderIsBadInputNamingThePath()
    {
        string missing = Path.Combine(Path.GetTempPath(), "glassbox-no-such-model-" + Guid.NewGuid().ToString("N"));
        var (code, output, err) = CliTestSupport.Run("predict", "--model", missing, "--text", "hi");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(missing, err);
        Assert.Contains("Pass --model", err);
    }

    [Fact]
    public void TooLongTextNamesTheLimitAndMaxLength()
    {
        string text = string.Join(" ", Enumerable.Repeat("word", 100));
        var (code, _, err) = CliTestSupport.Run("predict", "--model", Model("distilbert-tiny-random-sst2"), "--text", text);
        Assert.Equal(2, code);
        Assert.Contains("102 tokens", err);
        Assert.Contains("at most 64", err);
        Assert.Contains("--max-length 64", err);

        var r = Predict("--model", Model("distilbert-tiny-random-sst2"), "--text", text, "--max-length", "64");
        Assert.Equal(64, r.GetProperty("inputIds").GetArrayLength());
    }

    [Fact]
    public void OtherBadInputsExitWithTwo()
    {
        Assert.Equal(2, CliTestSupport.Run("predict", "--model", Model("distilbert-tiny-random-sst2")).Code);
        Assert.Equal(2, CliTestSupport.Run("predict", "--model", Model("distilbert-tiny-random-sst2"), "--text", "  ").Code);
        Assert.Equal(2, CliTestSupport.Run("predict", "--model", Model("distilbert-tiny-random-sst2"), "--text", "hi", "--max-new-tokens", "3").Code);
        Assert.Equal(2, CliTestSupport.Run("predict", "--model", Model("gpt2-tiny-random"), "--text", "hi", "--max-new-tokens", "0").Code);
    }
}
