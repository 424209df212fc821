// Resolves --tokenizer: a tokenizer.json file, a SentencePiece .model file, or a model folder.
// Folders with tokenizer.json (or the BERT/GPT-2 legacy files) load through
// Tokenizer.FromPretrained; folders whose only tokenizer is spiece.model / tokenizer.model are
// converted the way transformers does (SentencePieceConverter).

using Glassbox.Tokenizers;
using Glassbox.Tokenizers.SentencePiece;

namespace Glassbox.Cli;

internal static class TokenizerLoader
{
    public static Tokenizer Load(string path)
    {
        if (File.Exists(path))
        {
            if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
            {
                string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
                return Tokenizer.FromJson(SentencePieceConverter.ToTokenizerJson(path,
                    ReadIfExists(Path.Combine(dir, "tokenizer_config.json")),
                    ReadIfExists(Path.Combine(dir, "special_tokens_map.json"))));
            }
            return Tokenizer.FromFile(path);
        }
        if (Directory.Exists(path))
        {
            bool hasHfFiles = File.Exists(Path.Combine(path, "tokenizer.json")) || File.Exists(Path.Combine(path, "vocab.txt"))
                || (File.Exists(Path.Combine(path, "vocab.json")) && File.Exists(Path.Combine(path, "merges.txt")));
            if (!hasHfFiles && SentencePieceConverter.FolderToTokenizerJson(path) is string json)
                return Tokenizer.FromJson(json);
            return Tokenizer.FromPretrained(path);
        }
        throw new FileNotFoundException($"tokenizer not found: {path} is neither a file nor a folder.", path);
    }

    private static string? ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
}
