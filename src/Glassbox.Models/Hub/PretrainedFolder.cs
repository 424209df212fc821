// The one call an architecture or the CLI needs: a model id or folder → the resolved folder, its
// typed config.json and its (preferred) weights, like from_pretrained's loading half.
using Glassbox.Models.Checkpoints;
using Glassbox.Models.Configs;

namespace Glassbox.Models.Hub;

public sealed class PretrainedFolder : IDisposable
{
    public string Folder { get; }
    public ModelConfig Config { get; }
    public Checkpoint Weights { get; }

    private PretrainedFolder(string folder, ModelConfig config, Checkpoint weights)
    {
        Folder = folder;
        Config = config;
        Weights = weights;
    }

    /// <summary>
    /// Resolves <paramref name="idOrPath"/> (a local folder, or "org/name[@revision]" through the Hub
    /// cache with HubOptions.FromEnvironment() unless options are given), reads config.json and opens
    /// the weights (model.safetensors, its sharded index, pytorch_model.bin, or its index — in that order).
    /// </summary>
    public static PretrainedFolder Open(string idOrPath, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        string folder = HubClient.ResolveModelFolder(idOrPath, options, cancellationToken);
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        var weights = Checkpoint.Open(folder);
        return new PretrainedFolder(folder, config, weights);
    }

    /// <summary>The path of a file in the folder (tokenizer.json, preprocessor_config.json, ...), or null when absent.</summary>
    public string? File(string name)
    {
        string p = Path.Combine(Folder, HubCache.ToLocal(name));
        return System.IO.File.Exists(p) ? p : null;
    }

    public void Dispose() => Weights.Dispose();
}
