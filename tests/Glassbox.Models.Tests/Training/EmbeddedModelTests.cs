using System.Text.Json;
using Glassbox.Models.Architectures;
using Glassbox.Models.Data;
using Glassbox.Models.Training;
using Glassbox.Tokenizers;

namespace Glassbox.Models.Tests.Training;

/// <summary>The models shipped under models/ do what their model cards say (inference only).</summary>
public sealed class EmbeddedModelTests
{
    // The repository root: above the test binaries, or (when they are built elsewhere, e.g. with
    // --artifacts-path) above this source file.
    private static string RepoModel(string name)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(SourceFile())! })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Glassbox.sln")))
                    return Path.Combine(dir.FullName, "models", name);
        throw new DirectoryNotFoundException($"no Glassbox.sln above {AppContext.BaseDirectory} or {SourceFile()}");
    }

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    [Fact]
    public void ShippedSentimentClassifierScoresAtLeast80PercentOnSst2Dev()
    {
        string folder = RepoModel("sst2-distilbert-tiny");
        var model = Assert.IsType<DistilBert>(AutoModel.FromPretrained(folder));
        Assert.Equal(["NEGATIVE", "POSITIVE"], model.Config.Id2Label);
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "training.json")));
        int maxLength = card.RootElement.GetProperty("recipe").GetProperty("maxLength").GetInt32();
        double accuracy = ClassifierTrainer.Accuracy(model, Tokenizer.FromPretrained(folder),
            Path.Combine(SharedData.Root, "data", "sst2", "dev.tsv"), new DataColumns("sentence", "label"), maxLength, model.Config.Id2Label);
        Assert.True(accuracy >= 0.80, $"SST-2 dev accuracy {accuracy:P2}");
        Assert.Equal(card.RootElement.GetProperty("metrics").GetProperty("evalAccuracy").GetDouble(), accuracy, 6);
        Assert.True(new FileInfo(Path.Combine(folder, "model.safetensors")).Length < 20_000_000);
    }

    [Fact]
    public void ShippedLanguageModelReproducesItsValidationLoss()
    {
        string folder = RepoModel("shakespeare-gpt2-tiny");
        var model = Assert.IsType<Gpt2>(AutoModel.FromPretrained(folder));
        using var card = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "training.json")));
        int block = card.RootElement.GetProperty("recipe").GetProperty("blockSize").GetInt32();
        double stated = card.RootElement.GetProperty("valLossNatsPerToken").GetDouble();
        double loss = LanguageModelTrainer.ValidationLoss(model, Tokenizer.FromPretrained(folder),
            Path.Combine(SharedData.Root, "data", "tinyshakespeare", "input.txt"), 0.1f, block);
        Assert.Equal(stated, loss, 1e-3);
        Assert.True(loss < Math.Log(2048) - 1.5, $"validation loss {loss} should be far below the uniform {Math.Log(2048):F2}");
    }
}
