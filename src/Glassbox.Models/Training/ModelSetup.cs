// Building the model a trainer starts from, and writing what it produces.
//
// Start: either random weights from a config (transformers' _init_weights) or an existing
// checkpoint (--init), whose body must bind completely; a task head that is missing or has another
// shape (new label count) is initialised afresh, as from_pretrained does with
// ignore_mismatched_sizes, and listed in the model card.
//
// Output: a Hugging Face folder — config.json (keys sorted, two-space indent, as save_pretrained
// writes it), model.safetensors (float32, in the architecture's parameter order) and the
// tokenizer files copied unchanged — that AutoModel.FromPretrained loads back bit for bit.
using System.Text.Json;
using System.Text.Json.Nodes;
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;
using Glassbox.Tensors;

namespace Glassbox.Models.Training;

/// <summary>Bad training input (missing file, wrong column, unknown model, bad config, one class): the
/// message names the file or option and the way out. The command maps it to exit code 2.</summary>
public sealed class TrainingInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The starting model of a training run.</summary>
internal sealed record StartingModel(
    TransformerModel Model,
    IReadOnlyList<KeyValuePair<string, Tensor>> Parameters,
    IReadOnlyList<string> NewlyInitialised,
    IReadOnlyList<string> IgnoredFromCheckpoint);

internal static class ModelSetup
{
    /// <summary>Tokenizer files copied into a trained model's folder when present.</summary>
    public static readonly string[] TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model",
    ];

    /// <summary>Reads --config: a config.json file, a folder holding one, or inline JSON text.</summary>
    public static JsonObject ReadConfig(string pathOrJson, string option = "--config")
    {
        string text, source;
        string trimmed = pathOrJson.TrimStart();
        if (trimmed.StartsWith('{')) { text = pathOrJson; source = option; }
        else
        {
            source = Directory.Exists(pathOrJson) ? Path.Combine(pathOrJson, "config.json") : pathOrJson;
            if (!File.Exists(source))
                throw new TrainingInputException($"{option} {pathOrJson}: file not found; give a config.json (or inline JSON such as '{{\"model_type\":\"distilbert\",\"dim\":64}}').");
            text = File.ReadAllText(source);
        }
        JsonNode? node;
        try { node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new TrainingInputException($"{source}: not valid JSON ({e.Message}).", e); }
        if (node is not JsonObject obj) throw new TrainingInputException($"{source}: expected a JSON object with the model's hyper-parameters.");
        if (obj["model_type"] is null) throw new TrainingInputException($"{source}: has no \"model_type\" (e.g. \"distilbert\", \"bert\", \"roberta\", \"gpt2\").");
        return obj;
    }

    /// <summary>Parses the (edited) config into its typed record; a bad value is a TrainingInputException.</summary>
    public static ModelConfig Typed(JsonObject config, string source)
    {
        try { return ModelConfig.Parse(config.ToJsonString(), source); }
        catch (ConfigException e) { throw new TrainingInputException(e.Message, e); }
    }

    public static double InitializerRange(JsonObject config) =>
        config["initializer_range"] is JsonValue v && v.TryGetValue(out double d) && d > 0 ? d : 0.02;

    /// <summary>Random weights from a config, or a checkpoint folder's weights with a fresh head where needed.</summary>
    public static StartingModel Create(TrainableArchitecture arch, ModelConfig config, JsonObject rawConfig, string? initFolder, long seed)
    {
        var expected = arch.Expected(config);
        double range = InitializerRange(rawConfig);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var fresh = new List<string>();
        var ignored = new List<string>();
        if (initFolder is not null)
        {
            using var checkpoint = OpenCheckpoint(initFolder);
            var options = new BindingOptions { Strict = false, BasePrefix = arch.BasePrefix, IgnoreUnexpected = arch.IgnoredCheckpointNames };
            var bound = WeightBinder.Bind(expected, checkpoint, options);
            var r = bound.Report;
            var bodyMissing = r.Missing.Where(n => !arch.IsHead(n)).ToList();
            var bodyMismatched = r.Mismatched.Where(m => !arch.IsHead(m.Name)).ToList();
            if (bodyMissing.Count > 0 || bodyMismatched.Count > 0 || r.NonFloat.Count > 0)
            {
                bound.Dispose();
                var partial = r with { Missing = bodyMissing, Mismatched = bodyMismatched, Unexpected = [] };
                throw new TrainingInputException(partial.Describe(checkpoint.FilePath) +
                    $"\n--init must be a {arch.ArchitectureName.Replace("ForSequenceClassification", "", StringComparison.Ordinal)} checkpoint whose config.json matches its weights.");
            }
            foreach (var (name, t) in bound.Tensors) tensors[name] = t;
            ignored.AddRange(r.Unexpected);
            ignored.AddRange(r.Ignored);
            ignored.AddRange(r.Mismatched.Select(m => m.CheckpointName));
        }
        var ordered = new List<KeyValuePair<string, Tensor>>(expected.Count);
        foreach (var (name, shape) in expected)
        {
            if (!tensors.TryGetValue(name, out var t))
            {
                t = Tensor.Zeros(shape);
                arch.Initialise(name, t, config, range, seed);
                tensors[name] = t;
                if (initFolder is not null) fresh.Add(name);
            }
            ordered.Add(new(name, t));
        }
        var model = arch.Build(config, tensors);
        return new StartingModel(model, ordered, fresh, ignored.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
    }

    private static Checkpoint OpenCheckpoint(string folder)
    {
        try { return Checkpoint.Open(folder); }
        catch (Exception e) when (e is FileNotFoundException or CheckpointFormatException or InvalidDataException)
        {
            throw new TrainingInputException($"--init {folder}: cannot open the weights ({e.Message}).", e);
        }
    }

    /// <summary>Writes config.json, model.safetensors and the tokenizer files into <paramref name="folder"/> (created).</summary>
    public static long WriteModelFolder(string folder, JsonObject config, IReadOnlyList<KeyValuePair<string, Tensor>> parameters, string tokenizerFolder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), SortedJson(config) + "\n");
        string weights = Path.Combine(folder, "model.safetensors");
        SafetensorsWriter.Write(weights, parameters, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var name in TokenizerFiles)
        {
            string src = Path.Combine(tokenizerFolder, name);
            if (File.Exists(src)) File.Copy(src, Path.Combine(folder, name), overwrite: true);
        }
        return new FileInfo(weights).Length;
    }

    /// <summary>JSON with object keys sorted (ordinal) and two-space indentation, as transformers' to_json_string.</summary>
    public static string SortedJson(JsonNode node) => Sort(node)!.ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true,
        IndentSize = 2,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sort(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sort).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>The folder a run writes into before moving it to --out: a sibling, so the move is a rename.</summary>
    public static string StagingFolder(string outFolder)
    {
        string full = Path.GetFullPath(outFolder);
        string parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar))}.training-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return staging;
    }

    /// <summary>Checks --out before any work: it may not exist, or be an empty folder, or (with overwrite) anything.</summary>
    public static void CheckOut(string outFolder, bool overwrite)
    {
        if (File.Exists(outFolder)) throw new TrainingInputException($"--out {outFolder} is a file; give a folder to write the model into.");
        if (!overwrite && Directory.Exists(outFolder) && Directory.EnumerateFileSystemEntries(outFolder).Any())
            throw new TrainingInputException($"--out {outFolder} already exists and is not empty; choose another folder or pass --overwrite.");
    }

    /// <summary>Replaces --out with the finished staging folder (the old one removed only after the new one is complete).</summary>
    public static void Publish(string staging, string outFolder)
    {
        string full = Path.GetFullPath(outFolder).TrimEnd(Path.DirectorySeparatorChar);
        string? old = null;
        if (Directory.Exists(full))
        {
            old = full + $".old-{Guid.NewGuid():N}";
            Directory.Move(full, old);
        }
        Directory.Move(staging, full);
        if (old is not null) Directory.Delete(old, recursive: true);
    }

    public static void DeleteQuietly(string folder)
    {
        try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
