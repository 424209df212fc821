namespace Glassbox.Models.Checkpoints;

/// <summary>
/// A checkpoint file is malformed, hostile or unsupported. The message always names the file
/// and the problem; <see cref="FilePath"/> carries the file separately for tools.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public string FilePath { get; }

    public CheckpointFormatException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
    }
}
