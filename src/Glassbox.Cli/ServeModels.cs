// What `glassbox serve --model NAME=VALUE` means for each kind of VALUE:
//   http://… or https://…     an HTTP classifier (docs/EXTENDING.md's JSON contract): token-level perturbations
//                             when --tokenizer gives its tokenizer, word-level ones otherwise
//   FILE.onnx, or a folder with model.onnx and no Glassbox weights
//                             an ONNX export run by ONNX Runtime as a black box; its tokenizer is --tokenizer,
//                             else the tokenizer files beside it
//   anything else             a Hugging Face folder or Hub id, loaded as a Glassbox transformer (as before)
// --tokenizer takes NAME=DIR (for the model NAME) or DIR (for every ONNX/HTTP model). Black boxes get
// predictions, perturbation interpreters, metrics and the counterfactual generators that need no gradients.
using Glassbox.Explain.BlackBox;
using Glassbox.Explain.Extensions;
using Glassbox.Onnx;
using Glassbox.Server;
using Glassbox.Tokenizers;

namespace Glassbox.Cli;

internal static class ServeModels
{
    /// <summary>True when <paramref name="value"/> names an HTTP model.</summary>
    public static bool IsUrl(string value) =>
        value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="value"/> names an ONNX export (a .onnx file, or a folder whose model is model.onnx).</summary>
    public static bool IsOnnx(string value) =>
        value.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
        || (Directory.Exists(value) && File.Exists(Path.Combine(value, "model.onnx"))
            && !File.Exists(Path.Combine(value, "model.safetensors")) && !File.Exists(Path.Combine(value, "pytorch_model.bin"))
            && !File.Exists(Path.Combine(value, "model.safetensors.index.json")));

    /// <summary>Registers every --model with <paramref name="app"/>. Bad input is an ArgumentException naming the option.</summary>
    public static void Register(GlassboxApp app, IReadOnlyList<(string Name, string Value)> models, IReadOnlyList<string> tokenizerArgs)
    {
        var (perModel, shared) = ParseTokenizers(tokenizerArgs, models);
        foreach (var (name, value) in models)
        {
            string where = $"--model {name}={value}";
            string? tokenizerPath = perModel.TryGetValue(name, out var t) ? t : shared;
            if (IsUrl(value))
            {
                var tokenizer = tokenizerPath is null ? null : LoadTokenizer(tokenizerPath, name);
                HttpModel http;
                try { http = new HttpModel(value, tokenizer); }
                catch (ArgumentException e) { throw new ArgumentException($"{where}: {e.Message}"); }
                try
                {
                    if (tokenizer is null) app.AddModel(name, new HttpTextModel(http));
                    else app.AddModel(name, http, tokenizer);
                }
                catch (HttpModelException e)
                {
                    throw new ArgumentException($"{where}: {e.Message} The endpoint must answer an empty batch with its labels (docs/EXTENDING.md, HTTP models).");
                }
            }
            else if (IsOnnx(value))
            {
                OnnxClassifier onnx;
                try { onnx = OnnxClassifier.Load(value); }
                catch (FileNotFoundException e) { throw new ArgumentException($"{where}: {e.Message}"); }
                catch (ArgumentException e) { throw new ArgumentException($"{where}: {e.Message}"); }
                string folder = Directory.Exists(value) ? value : Path.GetDirectoryName(Path.GetFullPath(value))!;
                tokenizerPath ??= File.Exists(Path.Combine(folder, "tokenizer.json")) || File.Exists(Path.Combine(folder, "vocab.txt")) ? folder
                    : throw new ArgumentException($"{where}: an ONNX model needs its tokenizer and {folder} has none (tokenizer.json or vocab.txt); pass --tokenizer {name}=DIR.");
                app.AddModel(name, onnx, LoadTokenizer(tokenizerPath, name));
            }
            else
            {
                if (perModel.ContainsKey(name))
                    throw new ArgumentException($"--tokenizer {name}=…: model '{name}' is a Hugging Face folder or Hub id and uses its own tokenizer; --tokenizer is for ONNX and HTTP models.");
                app.AddModel(name, value);
            }
        }
    }

    private static (Dictionary<string, string> PerModel, string? Shared) ParseTokenizers(IReadOnlyList<string> args, IReadOnlyList<(string Name, string Value)> models)
    {
        var perModel = new Dictionary<string, string>(StringComparer.Ordinal);
        string? shared = null;
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=');
            if (eq > 0 && models.Any(m => m.Name == arg[..eq]))
            {
                if (!perModel.TryAdd(arg[..eq], arg[(eq + 1)..])) throw new ArgumentException($"--tokenizer for model '{arg[..eq]}' is given twice.");
            }
            else if (eq > 0 && !Directory.Exists(arg) && !File.Exists(arg))
                throw new ArgumentException($"--tokenizer {arg}: there is no --model named '{arg[..eq]}'; models: {string.Join(", ", models.Select(m => m.Name))}.");
            else if (shared is not null) throw new ArgumentException("--tokenizer DIR (for every ONNX/HTTP model) is given twice; name the model: --tokenizer NAME=DIR.");
            else shared = arg;
        }
        return (perModel, shared);
    }

    private static Tokenizer LoadTokenizer(string path, string model)
    {
        try
        {
            var tokenizer = TokenizerLoader.Load(path);
            return tokenizer;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or TokenizerFormatException or FormatException
            or System.Text.Json.JsonException or InvalidDataException)
        {
            throw new ArgumentException($"--tokenizer for model '{model}' ({path}): cannot load it: {e.Message} Give a folder with tokenizer.json (or vocab.txt, or vocab.json + merges.txt), or a tokenizer.json file.");
        }
    }
}
