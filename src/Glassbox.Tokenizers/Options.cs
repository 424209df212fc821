namespace Glassbox.Tokenizers;

public enum TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond }
public enum TruncationDirection { Right, Left }
public enum PaddingDirection { Right, Left }

/// <summary>Truncation settings (Rust's TruncationParams).</summary>
public sealed class TruncationOptions
{
    public int MaxLength { get; set; } = 512;
    public int Stride { get; set; }
    public TruncationStrategy Strategy { get; set; } = TruncationStrategy.LongestFirst;
    public TruncationDirection Direction { get; set; } = TruncationDirection.Right;
}

/// <summary>Padding settings (Rust's PaddingParams). <see cref="Length"/> null pads to the longest in the batch.</summary>
public sealed class PaddingOptions
{
    public PaddingDirection Direction { get; set; } = PaddingDirection.Right;
    public int PadId { get; set; }
    public int PadTypeId { get; set; }
    public string PadToken { get; set; } = "[PAD]";
    public int? Length { get; set; }
    public int? PadToMultipleOf { get; set; }
}

/// <summary>A tokenizer file (tokenizer.json, vocab, merges) is malformed; the message names the JSON path and the problem.</summary>
public sealed class TokenizerFormatException : Exception
{
    public string JsonPath { get; }
    public TokenizerFormatException(string jsonPath, string message)
        : base($"{jsonPath}: {message}") => JsonPath = jsonPath;
    public TokenizerFormatException(string jsonPath, string message, Exception inner)
        : base($"{jsonPath}: {message}", inner) => JsonPath = jsonPath;
}

/// <summary>Encoding failed for an input the configuration cannot handle (e.g. truncation impossible).</summary>
public sealed class TokenizationException(string message) : Exception(message);
