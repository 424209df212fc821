// A checkpoint split over several files, described by a `*.index.json` whose "weight_map" maps
// every tensor name to the shard that holds it (model.safetensors.index.json and
// pytorch_model.bin.index.json share this layout). Shards are opened once each.
using System.Text.Json;
using Glassbox.Tensors;

namespace Glassbox.Models.Checkpoints;

public sealed class ShardedCheckpoint : Checkpoint
{
    private readonly Dictionary<string, Checkpoint> _byName;
    private readonly List<Checkpoint> _shards;
    private readonly string[] _names;
    private readonly Dictionary<string, string> _metadata;

    public override string FilePath { get; }
    public override IReadOnlyList<string> Names => _names;
    public override IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>The shard files, in the order they were first named by the index.</summary>
    public IReadOnlyList<string> ShardFiles => _shards.Select(s => s.FilePath).ToList();

    private ShardedCheckpoint(string path, string[] names, Dictionary<string, Checkpoint> byName, List<Checkpoint> shards, Dictionary<string, string> metadata)
    {
        FilePath = path;
        _names = names;
        _byName = byName;
        _shards = shards;
        _metadata = metadata;
    }

    public static new ShardedCheckpoint Open(string indexPath)
    {
        indexPath = Path.GetFullPath(indexPath);
        string folder = Path.GetDirectoryName(indexPath)!;
        var len = new FileInfo(indexPath).Length;
        if (len > 256L << 20) throw new CheckpointFormatException(indexPath, $"index is {len} bytes, more than the 256 MB an index can sensibly be.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(indexPath, $"index is not well-formed JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(indexPath, "index has no \"weight_map\" object.");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object)
                foreach (var p in md.EnumerateObject())
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();

            var shardsByFile = new Dictionary<string, Checkpoint>(StringComparer.Ordinal);
            var shards = new List<Checkpoint>();
            var byName = new Dictionary<string, Checkpoint>(StringComparer.Ordinal);
            var names = new List<string>();
            try
            {
                foreach (var p in map.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String)
                        throw new CheckpointFormatException(indexPath, $"weight_map entry '{p.Name}' is {p.Value.ValueKind}, not a file name.");
                    string shardName = p.Value.GetString()!;
                    if (!shardsByFile.TryGetValue(shardName, out var shard))
                    {
                        string shardPath = SafeJoin(indexPath, folder, shardName);
                        if (!File.Exists(shardPath))
                            throw new CheckpointFormatException(indexPath, $"shard '{shardName}' (named for '{p.Name}') does not exist.");
                        shard = Checkpoint.Open(shardPath);
                        if (shard is ShardedCheckpoint) throw new CheckpointFormatException(indexPath, $"shard '{shardName}' is itself an index.");
                        shardsByFile[shardName] = shard;
                        shards.Add(shard);
                    }
                    if (!shard.Contains(p.Name))
                        throw new CheckpointFormatException(indexPath, $"weight_map says '{p.Name}' is in '{shardName}', but that shard has no such tensor.");
                    if (!byName.TryAdd(p.Name, shard))
                        throw new CheckpointFormatException(indexPath, $"weight_map lists '{p.Name}' twice.");
                    names.Add(p.Name);
                }
            }
            catch
            {
                foreach (var s in shards) s.Dispose();
                throw;
            }
            return new ShardedCheckpoint(indexPath, names.ToArray(), byName, shards, metadata);
        }
    }

    /// <summary>Joins a shard name onto the index's folder, refusing absolute paths and anything that escapes the folder.</summary>
    internal static string SafeJoin(string file, string folder, string relative)
    {
        if (relative.Length == 0 || Path.IsPathRooted(relative) || relative.Contains('\\') || relative.Contains(':')
            || relative.Split('/').Any(part => part is ".." or "." or ""))
            throw new CheckpointFormatException(file, $"shard name '{relative}' is not a plain relative file name (absolute or traversing paths are refused).");
        string full = Path.GetFullPath(Path.Combine(folder, relative));
        string root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new CheckpointFormatException(file, $"shard name '{relative}' points outside {folder}.");
        return full;
    }

    private Checkpoint Shard(string name) => _byName.TryGetValue(name, out var s) ? s : throw NotFound(name);

    public override bool Contains(string name) => _byName.ContainsKey(name);
    public override TensorInfo GetInfo(string name) => Shard(name).GetInfo(name);
    public override void CopyBytes(string name, Span<byte> destination) => Shard(name).CopyBytes(name, destination);
    public override Tensor ToTensor(string name) => Shard(name).ToTensor(name);

    public override void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
