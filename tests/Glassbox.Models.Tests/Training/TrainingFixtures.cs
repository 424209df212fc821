using System.Text.Json.Nodes;
using Glassbox.Models.Configs;
using Glassbox.Models.Training;
using Glassbox.Tensors;

namespace Glassbox.Models.Tests.Training;

/// <summary>Tiny configs and synthetic data for trainer tests.</summary>
internal static class TrainingFixtures
{
    public static string BertTokenizer => Path.Combine(SharedData.Root, "tokenizers", "bert-base-uncased");
    public static string ShakespeareTokenizer => SharedData.Model("gpt2-shakespeare-tiny");
    public static string TinyShakespeare => Path.Combine(SharedData.Root, "data", "tinyshakespeare", "input.txt");

    public const string DistilBertConfig =
        """{"model_type":"distilbert","dim":16,"n_layers":2,"n_heads":2,"hidden_dim":32,"vocab_size":30522,"max_position_embeddings":64,"pad_token_id":0,"dropout":0.1,"attention_dropout":0.1,"seq_classif_dropout":0.1}""";

    public const string BertConfig =
        """{"model_type":"bert","hidden_size":16,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":32,"vocab_size":30522,"max_position_embeddings":64,"pad_token_id":0}""";

    public const string RobertaConfig =
        """{"model_type":"roberta","hidden_size":16,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":32,"vocab_size":30522,"max_position_embeddings":66,"pad_token_id":1,"type_vocab_size":1}""";

    public const string Gpt2Config =
        """{"model_type":"gpt2","n_embd":32,"n_layer":2,"n_head":2,"n_positions":32,"vocab_size":2048,"bos_token_id":0,"eos_token_id":0}""";

    private static readonly string[] s_positive = ["good", "great", "wonderful", "excellent", "lovely", "superb"];
    private static readonly string[] s_negative = ["bad", "awful", "terrible", "dreadful", "boring", "poor"];
    private static readonly string[] s_filler = ["the", "film", "was", "a", "story", "plot", "acting", "quite", "really", "and", "with", "music", "ending", "cast"];

    /// <summary>Sentences of filler words with one sentiment word; the label is its polarity (linearly separable in bag-of-words).</summary>
    public static string SentimentTsv(string path, int rows, int seed, bool stringLabels = false)
    {
        var rng = new Random(seed);
        using var w = new StreamWriter(path);
        w.WriteLine("sentence\tlabel");
        for (int i = 0; i < rows; i++)
        {
            bool pos = rng.Next(2) == 1;
            var words = Enumerable.Range(0, 3 + rng.Next(5)).Select(_ => s_filler[rng.Next(s_filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), pos ? s_positive[rng.Next(s_positive.Length)] : s_negative[rng.Next(s_negative.Length)]);
            w.WriteLine($"{string.Join(' ', words)}\t{(stringLabels ? (pos ? "pos" : "neg") : pos ? "1" : "0")}");
        }
        return path;
    }

    /// <summary>A freshly initialised model of a trainable architecture (no dropout, random init from the seed).</summary>
    internal static (TrainableArchitecture Arch, StartingModel Start, ModelConfig Config, JsonObject Raw) Build(string configJson, int labels = 2, long seed = 3)
    {
        var raw = (JsonObject)JsonNode.Parse(configJson)!;
        if (raw["model_type"]!.ToString() != "gpt2")
        {
            var id2label = new JsonObject();
            for (int i = 0; i < labels; i++) id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = $"L{i}";
            raw["id2label"] = id2label;
        }
        var config = ModelSetup.Typed(raw, "test");
        TrainableArchitecture arch = raw["model_type"]!.ToString() == "gpt2" ? new Gpt2LanguageModel() : TrainableArchitecture.Classifier(raw["model_type"]!.ToString());
        var start = ModelSetup.Create(arch, config, raw, null, seed);
        // Random-init biases and LayerNorms are 0 and 1; perturb them so their gradients are checked in general position.
        foreach (var (name, t) in start.Parameters)
            if (TrainableArchitecture.IsNoDecay(name))
            {
                var noise = Tensor.RandomNormal(t.Shape, (int)(TrainingRandom.StableHash(name) & 0x7fffffff), std: 0.1f);
                Ops.AddInPlace(t, noise);
            }
        return (arch, start, config, raw);
    }
}
