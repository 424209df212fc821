using Glassbox.Models;
using Glassbox.Models.Data;
using Glassbox.Models.Training;
using Glassbox.Tokenizers;

namespace Glassbox.Explain.Tests.Concepts;

/// <summary>Two tiny DistilBERT classifiers trained by Glassbox's trainer on generated tasks, once per test run:
/// "sentiment": the adjective's polarity, flipped by "not" (a known interaction);
/// "negation": NEGATED when the sentence has a negation word, else PLAIN (a planted concept).</summary>
public sealed class TrainedSyntheticTasks : IDisposable
{
    public static readonly string[] Subjects = ["the movie", "the film", "this show", "the plot", "the acting", "the story", "the ending", "the music"];
    public static readonly string[] Positive = ["good", "great", "fine", "lovely", "superb", "fun"];
    public static readonly string[] Negative = ["bad", "awful", "dull", "poor", "boring", "weak"];
    public static readonly string[] Negations = ["not", "never", "hardly"];

    private static string BertTokenizerDir => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Shared.Model("x"))!)!, "tokenizers", "bert-base-uncased");

    private readonly string _dir = Directory.CreateTempSubdirectory("glassbox-synthetic-").FullName;
    public TransformerModel Sentiment { get; }
    public TransformerModel Negation { get; }
    public Tokenizer Tokenizer { get; }
    public IReadOnlyList<(string Text, string Label)> NegationData { get; }

    public TrainedSyntheticTasks()
    {
        var sentiment = new List<string> { "sentence\tlabel" };
        foreach (var s in Subjects)
            foreach (var verb in new[] { "was", "is" })
                foreach (var adj in Positive.Concat(Negative))
                {
                    bool pos = Positive.Contains(adj);
                    sentiment.Add($"{s} {verb} {adj}\t{(pos ? "POSITIVE" : "NEGATIVE")}");
                    sentiment.Add($"{s} {verb} not {adj}\t{(pos ? "NEGATIVE" : "POSITIVE")}");
                }
        var negation = new List<(string, string)>();
        foreach (var s in Subjects)
            foreach (var adj in Positive.Concat(Negative))
            {
                negation.Add(($"{s} was {adj}", "PLAIN"));
                negation.Add(($"{s} is very {adj}", "PLAIN"));
                foreach (var n in Negations) negation.Add(($"{s} was {n} {adj}", "NEGATED"));
            }
        NegationData = negation;
        Tokenizer = Tokenizer.FromFile(Path.Combine(BertTokenizerDir, "tokenizer.json"));
        Sentiment = Train("sentiment", sentiment, ["NEGATIVE", "POSITIVE"]);
        Negation = Train("negation", negation.Select(p => $"{p.Item1}\t{p.Item2}").Prepend("sentence\tlabel").ToList(), ["PLAIN", "NEGATED"]);
    }

    private TransformerModel Train(string name, List<string> lines, string[] labels)
    {
        string data = Path.Combine(_dir, name + ".tsv");
        File.WriteAllLines(data, lines);
        var result = ClassifierTrainer.Train(new ClassifierTrainingOptions
        {
            DataPath = data,
            EvalDataPath = data,
            Columns = new DataColumns("sentence", "label"),
            Config = """{"model_type":"distilbert","dim":32,"n_layers":2,"n_heads":2,"hidden_dim":64,"vocab_size":30522,"max_position_embeddings":32,"pad_token_id":0,"dropout":0.0,"attention_dropout":0.0,"seq_classif_dropout":0.0}""",
            Tokenizer = BertTokenizerDir,
            LabelNames = labels,
            Epochs = 8,
            LearningRate = 3e-3f,
            BatchSize = 16,
            MaxLength = 16,
            Seed = 0,
            OutputDir = Path.Combine(_dir, name),
        });
        if (result.EvalAccuracy < 0.97)
            throw new InvalidOperationException($"The synthetic '{name}' task trained to only {result.EvalAccuracy:P1}; the tests below need a model that learned it.");
        return AutoModel.FromPretrained(result.OutputDir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}

[CollectionDefinition("trained synthetic tasks")]
public sealed class TrainedSyntheticTasksCollection : ICollectionFixture<TrainedSyntheticTasks>;
