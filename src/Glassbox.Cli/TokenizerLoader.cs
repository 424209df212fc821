// Resolves --tokenizer: a tokenizer.json file, a SentencePiece .model file, or a model folder.

using Glassbox.Tokenizers;

namespace Glassbox.Cli;

internal static class TokenizerLoader
{
    public static Tokenizer Load(string path)
    {
        if (File.Exists(path))
        {
            return Tokenizer.FromFile(path);
        }
        if (Directory.Exists(path))
        {
            return Tokenizer.FromPretrained(path);
        }
        throw new FileNotFoundException($"tokenizer not found: {path} is neither a file nor a folder.", path);
    }
}
