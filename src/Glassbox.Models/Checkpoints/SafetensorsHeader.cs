// Parsing and validation of a safetensors header, kept separate from file access so that it can
// be fuzzed on byte arrays. The rules follow the reference (Rust) implementation: an 8-byte
// little-endian header length, a JSON object of {name: {dtype, shape, data_offsets}} plus an
// optional "__metadata__" string map, and tensor spans that tile the data section exactly —
// no overlaps, no holes, nothing past the end. Anything else is a CheckpointFormatException
// that names the file and the problem.
using System.Text;
using System.Text.Json;

namespace Glassbox.Models.Checkpoints;

internal sealed record SafetensorsEntry(TensorInfo Info, long Begin, long End);

internal sealed class SafetensorsHeader
{
    /// <summary>Same cap as the reference implementation: a header above 100 MB is refused before it is read.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public required List<SafetensorsEntry> Entries { get; init; }
    public required Dictionary<string, SafetensorsEntry> ByName { get; init; }
    public required Dictionary<string, string> Metadata { get; init; }

    /// <summary>Validates the 8-byte length prefix against the file size; returns the header length.</summary>
    public static long CheckLength(string file, ulong declared, long fileLength)
    {
        if (fileLength < 8)
            throw new CheckpointFormatException(file, $"file is {fileLength} bytes, too short for the 8-byte safetensors header length (truncated?).");
        if (declared > MaxHeaderBytes)
            throw new CheckpointFormatException(file, $"header length {declared} exceeds the {MaxHeaderBytes}-byte limit (corrupt file or not safetensors).");
        if ((long)declared > fileLength - 8)
            throw new CheckpointFormatException(file, $"header length {declared} is larger than the rest of the file ({fileLength - 8} bytes): truncated or not safetensors.");
        if (declared < 2)
            throw new CheckpointFormatException(file, $"header length {declared} is too small to hold a JSON object.");
        return (long)declared;
    }

    public static SafetensorsHeader Parse(string file, ReadOnlySpan<byte> json, long dataLength)
    {
        if (json[0] != (byte)'{')
            throw new CheckpointFormatException(file, $"header does not start with '{{' (byte 0x{json[0]:X2}): not a safetensors file.");
        var entries = new List<SafetensorsEntry>();
        var byName = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow });
            Expect(ref reader, JsonTokenType.StartObject, file, "header");
            while (true)
            {
                Read(ref reader, file);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                if (reader.TokenType != JsonTokenType.PropertyName) throw Bad(file, "header: expected a tensor name");
                string name = reader.GetString()!;
                if (name == "__metadata__")
                {
                    if (metadata is not null) throw Bad(file, "header has two \"__metadata__\" entries");
                    metadata = ParseMetadata(ref reader, file);
                    continue;
                }
                if (byName.ContainsKey(name)) throw Bad(file, $"header lists tensor '{name}' twice");
                var entry = ParseEntry(ref reader, file, name);
                entries.Add(entry);
                byName[name] = entry;
            }
            // Only whitespace (padding) may follow the object.
            if (reader.Read()) throw Bad(file, "header has data after the JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(file, $"header is not well-formed JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new CheckpointFormatException(file, $"header is not well-formed JSON: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            // Invalid UTF-8 inside a string surfaces here.
            throw new CheckpointFormatException(file, $"header is not valid UTF-8 JSON: {e.Message}", e);
        }

        CheckSpans(file, entries, dataLength);
        return new SafetensorsHeader { Entries = entries, ByName = byName, Metadata = metadata ?? new Dictionary<string, string>() };
    }

    private static Dictionary<string, string> ParseMetadata(ref Utf8JsonReader reader, string file)
    {
        var md = new Dictionary<string, string>(StringComparer.Ordinal);
        Read(ref reader, file);
        if (reader.TokenType == JsonTokenType.Null) return md;
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(file, "\"__metadata__\" must be an object of strings");
        while (true)
        {
            Read(ref reader, file);
            if (reader.TokenType == JsonTokenType.EndObject) return md;
            string key = reader.GetString()!;
            Read(ref reader, file);
            if (reader.TokenType != JsonTokenType.String) throw Bad(file, $"\"__metadata__\" value for '{key}' is {reader.TokenType}, not a string");
            if (!md.TryAdd(key, reader.GetString()!)) throw Bad(file, $"\"__metadata__\" has key '{key}' twice");
        }
    }

    private static SafetensorsEntry ParseEntry(ref Utf8JsonReader reader, string file, string name)
    {
        Read(ref reader, file);
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(file, $"tensor '{name}': entry is {reader.TokenType}, not an object");
        string? dtypeName = null;
        List<int>? shape = null;
        long begin = -1, end = -1;
        bool haveOffsets = false;
        while (true)
        {
            Read(ref reader, file);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype":
                    Read(ref reader, file);
                    if (reader.TokenType != JsonTokenType.String) throw Bad(file, $"tensor '{name}': dtype is {reader.TokenType}, not a string");
                    if (dtypeName is not null) throw Bad(file, $"tensor '{name}': dtype given twice");
                    dtypeName = reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw Bad(file, $"tensor '{name}': shape given twice");
                    shape = [];
                    Expect(ref reader, JsonTokenType.StartArray, file, $"tensor '{name}': shape");
                    while (true)
                    {
                        Read(ref reader, file);
                        if (reader.TokenType == JsonTokenType.EndArray) break;
                        long d = ReadNonNegative(ref reader, file, $"tensor '{name}': shape");
                        if (d > int.MaxValue) throw Bad(file, $"tensor '{name}': dimension {d} is too large");
                        if (shape.Count >= 64) throw Bad(file, $"tensor '{name}': more than 64 dimensions");
                        shape.Add((int)d);
                    }
                    break;
                case "data_offsets":
                    if (haveOffsets) throw Bad(file, $"tensor '{name}': data_offsets given twice");
                    haveOffsets = true;
                    Expect(ref reader, JsonTokenType.StartArray, file, $"tensor '{name}': data_offsets");
                    Read(ref reader, file);
                    begin = ReadNonNegative(ref reader, file, $"tensor '{name}': data_offsets");
                    Read(ref reader, file);
                    end = ReadNonNegative(ref reader, file, $"tensor '{name}': data_offsets");
                    Read(ref reader, file);
                    if (reader.TokenType != JsonTokenType.EndArray) throw Bad(file, $"tensor '{name}': data_offsets must have exactly two numbers");
                    break;
                default:
                    // Unknown fields are ignored, as the reference implementation does.
                    Read(ref reader, file);
                    reader.Skip();
                    break;
            }
        }
        if (dtypeName is null) throw Bad(file, $"tensor '{name}': missing dtype");
        if (shape is null) throw Bad(file, $"tensor '{name}': missing shape");
        if (!haveOffsets) throw Bad(file, $"tensor '{name}': missing data_offsets");
        if (!DTypes.TryParse(dtypeName, out var dtype))
            throw Bad(file, $"tensor '{name}': unknown dtype '{Truncate(dtypeName)}' (known: {DTypes.KnownNames})");
        if (end < begin) throw Bad(file, $"tensor '{name}': data_offsets [{begin}, {end}) end before they begin");
        long count = 1;
        foreach (var d in shape)
        {
            try { count = checked(count * d); }
            catch (OverflowException) { throw Bad(file, $"tensor '{name}': shape [{string.Join(", ", shape)}] overflows the element count"); }
        }
        long bytes;
        try { bytes = checked(count * dtype.Size()); }
        catch (OverflowException) { throw Bad(file, $"tensor '{name}': shape [{string.Join(", ", shape)}] overflows the byte count"); }
        if (bytes != end - begin)
            throw Bad(file, $"tensor '{name}': shape [{string.Join(", ", shape)}] × {dtype.Name()} is {bytes} bytes but data_offsets [{begin}, {end}) span {end - begin}");
        return new SafetensorsEntry(new TensorInfo(name, dtype, shape.ToArray()), begin, end);
    }

    private static void CheckSpans(string file, List<SafetensorsEntry> entries, long dataLength)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long prevEnd = 0;
        SafetensorsEntry? prev = null;
        foreach (var e in sorted)
        {
            if (e.End > dataLength)
                throw Bad(file, $"tensor '{e.Info.Name}': data_offsets [{e.Begin}, {e.End}) run past the end of the data section ({dataLength} bytes): truncated file or bad offsets");
            if (e.Begin < prevEnd)
                throw Bad(file, $"tensors '{prev!.Info.Name}' [{prev.Begin}, {prev.End}) and '{e.Info.Name}' [{e.Begin}, {e.End}) overlap");
            if (e.Begin > prevEnd)
                throw Bad(file, prev is null
                    ? $"data section has {e.Begin} unused bytes before tensor '{e.Info.Name}'"
                    : $"data section has a hole of {e.Begin - prevEnd} bytes between '{prev.Info.Name}' and '{e.Info.Name}'");
            prevEnd = e.End;
            prev = e;
        }
        if (prevEnd != dataLength)
            throw Bad(file, $"data section is {dataLength} bytes but the tensors cover {prevEnd}: trailing data or a missing tensor");
    }

    private static long ReadNonNegative(ref Utf8JsonReader reader, string file, string what)
    {
        if (reader.TokenType != JsonTokenType.Number) throw Bad(file, $"{what}: expected a non-negative integer, got {reader.TokenType}");
        if (!reader.TryGetInt64(out long v) || v < 0)
            throw Bad(file, $"{what}: '{Truncate(Encoding.UTF8.GetString(reader.ValueSpan))}' is not a non-negative integer");
        return v;
    }

    private static void Read(ref Utf8JsonReader reader, string file)
    {
        if (!reader.Read()) throw Bad(file, "header JSON ends early");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType t, string file, string what)
    {
        Read(ref reader, file);
        if (reader.TokenType != t) throw Bad(file, $"{what}: expected {t}, got {reader.TokenType}");
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static CheckpointFormatException Bad(string file, string problem) => new(file, problem);
}
