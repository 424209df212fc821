// Fine-tuning (or training from scratch) a sequence classifier, the way transformers' Trainer does
// by default: AdamW with decoupled weight decay (not on biases and LayerNorm weights), linear
// warm-up then linear decay to 0, global-norm gradient clipping, mean cross-entropy, dropout in
// training mode, evaluation after every epoch and the best epoch (by evaluation accuracy) kept.
//
// Determinism: initialisation, shuffling and dropout masks come from SplitMix64 streams derived
// from --seed; the kernels give the same bits for a given thread count, so a run repeats exactly
// with the same seed and --threads.
//
// Nothing appears under --out until the run has finished: everything is written into a sibling
// staging folder that is renamed at the end (and deleted on failure).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glassbox.Models.Configs;
using Glassbox.Models.Data;
using Glassbox.Models.Hub;
using Glassbox.Tensors;
using Glassbox.Tokenizers;

namespace Glassbox.Models.Training;

/// <summary>Everything <c>glassbox train classifier</c> takes.</summary>
public sealed record ClassifierTrainingOptions
{
    /// <summary>Training data (.csv, .tsv, .jsonl).</summary>
    public required string DataPath { get; init; }
    /// <summary>Text, label (required) and optional pair columns.</summary>
    public required DataColumns Columns { get; init; }
    /// <summary>Evaluation data with the same columns, evaluated after every epoch.</summary>
    public string? EvalDataPath { get; init; }
    /// <summary>A model folder or Hub id to start from (its body is kept; the head is new unless its labels fit).</summary>
    public string? Init { get; init; }
    /// <summary>A config.json (file, folder or inline JSON) for random initialisation.</summary>
    public string? Config { get; init; }
    /// <summary>Tokenizer folder; defaults to the --init folder.</summary>
    public string? Tokenizer { get; init; }
    /// <summary>Class names for numeric labels 0..n−1, or the order of string labels.</summary>
    public IReadOnlyList<string>? LabelNames { get; init; }
    public int Epochs { get; init; } = 3;
    public float LearningRate { get; init; } = 5e-5f;
    public int BatchSize { get; init; } = 32;
    /// <summary>Inputs are truncated to this many tokens (special tokens included).</summary>
    public int MaxLength { get; init; } = 128;
    public float WarmupRatio { get; init; } = 0.1f;
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Global gradient-norm limit; 0 turns clipping off.</summary>
    public float Clip { get; init; } = 1f;
    public int Seed { get; init; }
    /// <summary>Kernel threads (Parallelism.ThreadCount) for the run; null keeps the current setting.</summary>
    public int? Threads { get; init; }
    /// <summary>Keep a full model folder per epoch under checkpoints/epoch-N (training-data attribution needs them).</summary>
    public bool SaveEveryEpoch { get; init; }
    /// <summary>Train without dropout (the config's rates are ignored).</summary>
    public bool NoDropout { get; init; }
    public required string OutputDir { get; init; }
    /// <summary>Replace a non-empty --out.</summary>
    public bool Overwrite { get; init; }
    /// <summary>The command line recorded in the model card.</summary>
    public string? CommandLine { get; init; }
}

/// <summary>One epoch of a classifier run.</summary>
public sealed record ClassifierEpoch(int Epoch, long Steps, double TrainLoss, double MeanLearningRate, double? EvalLoss, double? EvalAccuracy, double Seconds);

/// <summary>The outcome of a classifier run.</summary>
public sealed record ClassifierTrainingResult(
    string OutputDir, IReadOnlyList<string> Labels, IReadOnlyList<ClassifierEpoch> History, int BestEpoch,
    double? EvalAccuracy, double TrainSeconds, double CpuSeconds, long Parameters, long WeightBytes);

/// <summary>Trains DistilBERT, BERT or RoBERTa sequence classifiers on a labelled text file.</summary>
public static class ClassifierTrainer
{
    private const int EvalBatch = 64;

    /// <summary>Runs the whole training and writes the model folder to <see cref="ClassifierTrainingOptions.OutputDir"/>.</summary>
    /// <exception cref="TrainingInputException">Bad input; nothing has been written.</exception>
    public static ClassifierTrainingResult Train(ClassifierTrainingOptions o, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(o);
        int savedThreads = Parallelism.ThreadCount;
        if (o.Threads is int th) Parallelism.ThreadCount = th;
        string? staging = null;
        try
        {
            var setup = Prepare(o, progress);
            staging = ModelSetup.StagingFolder(o.OutputDir);
            var result = Run(o, setup, staging, progress, cancellationToken);
            ModelSetup.Publish(staging, o.OutputDir);
            staging = null;
            return result with { OutputDir = Path.GetFullPath(o.OutputDir) };
        }
        finally
        {
            if (staging is not null) ModelSetup.DeleteQuietly(staging);
            Parallelism.ThreadCount = savedThreads;
        }
    }

    private static void Validate(ClassifierTrainingOptions o)
    {
        if (o.Columns.Label is null) throw new TrainingInputException("a classifier needs labels: give --label-column.");
        if ((o.Init is null) == (o.Config is null)) throw new TrainingInputException("give exactly one of --init (a model folder or Hub id to fine-tune) or --config (a config.json for random initialisation).");
        if (o.Epochs < 1) throw new TrainingInputException($"--epochs must be at least 1, not {o.Epochs}.");
        if (!(o.LearningRate > 0)) throw new TrainingInputException($"--lr must be positive, not {o.LearningRate}.");
        if (o.BatchSize < 1) throw new TrainingInputException($"--batch-size must be at least 1, not {o.BatchSize}.");
        if (o.MaxLength < 2) throw new TrainingInputException($"--max-length must be at least 2, not {o.MaxLength}.");
        if (!(o.WarmupRatio >= 0 && o.WarmupRatio <= 1)) throw new TrainingInputException($"--warmup-ratio must be in [0, 1], not {o.WarmupRatio}.");
        if (!(o.WeightDecay >= 0)) throw new TrainingInputException($"--weight-decay must be ≥ 0, not {o.WeightDecay}.");
        if (!(o.Clip >= 0)) throw new TrainingInputException($"--clip must be ≥ 0 (0 = no clipping), not {o.Clip}.");
        if (o.Threads is int t && t < 1) throw new TrainingInputException($"--threads must be at least 1, not {t}.");
        ModelSetup.CheckOut(o.OutputDir, o.Overwrite);
    }

    // ------------------------------------------------------------------ preparation

    private sealed record Example(string Id, int[] Ids, int[] TypeIds, int Label);

    private sealed record Setup(
        TrainableArchitecture Arch, ModelConfig Config, JsonObject RawConfig, string TokenizerFolder, string? InitFolder,
        List<Example> Train, List<Example>? Eval, IReadOnlyList<string> Labels, StartingModel Start, bool UsesTypeIds, int PadId);

    private static Setup Prepare(ClassifierTrainingOptions o, IProgress<TrainProgress>? progress)
    {
        string? initFolder = null;
        JsonObject raw;
        if (o.Init is not null)
        {
            initFolder = ResolveInit(o.Init);
            raw = ModelSetup.ReadConfig(initFolder, "--init");
        }
        else raw = ModelSetup.ReadConfig(o.Config!);

        string modelType = raw["model_type"] is JsonValue mt && mt.TryGetValue(out string? s) ? s : "";
        TrainableArchitecture arch;
        try { arch = TrainableArchitecture.Classifier(modelType); }
        catch (NotSupportedException e) { throw new TrainingInputException($"{o.Init ?? o.Config}: {e.Message}", e); }

        string tokenizerFolder = o.Tokenizer ?? initFolder
            ?? throw new TrainingInputException("--config needs --tokenizer: a folder with tokenizer.json (or vocab.txt) for the model's vocabulary.");
        var tokenizer = LoadTokenizer(tokenizerFolder);

        var trainRows = ReadRows(o.DataPath, o.Columns, "--data");
        if (trainRows.Count == 0) throw new TrainingInputException($"--data {o.DataPath} has no rows to train on.");
        var evalRows = o.EvalDataPath is null ? null : ReadRows(o.EvalDataPath, o.Columns, "--eval-data");
        if (evalRows is { Count: 0 }) throw new TrainingInputException($"--eval-data {o.EvalDataPath} has no rows.");

        IReadOnlyList<string>? configNames = raw["id2label"] is JsonObject ? ModelSetup.Typed(raw, "config.json").Id2Label : null;
        var labels = LabelMap.Build(trainRows, o.Columns.Label!, o.DataPath, o.LabelNames, configNames);

        // The classifier's config: the given one with labels, architecture and problem type set.
        raw = (JsonObject)raw.DeepClone();
        raw.Remove("num_labels");
        raw["architectures"] = new JsonArray(arch.ArchitectureName);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < labels.Names.Count; i++)
        {
            id2label[i.ToString(CultureInfo.InvariantCulture)] = labels.Names[i];
            label2id[labels.Names[i]] = i;
        }
        raw["id2label"] = id2label;
        raw["label2id"] = label2id;
        raw["problem_type"] = "single_label_classification";
        raw["dtype"] = "float32";
        var config = ModelSetup.Typed(raw, o.Init is null ? o.Config! : Path.Combine(initFolder!, "config.json"));

        var (vocab, maxTokens) = config switch
        {
            DistilBertConfig d => (d.VocabSize, d.MaxPositionEmbeddings),
            BertConfig b when b.ModelType == "roberta" => (b.VocabSize, b.MaxPositionEmbeddings - (b.PadTokenId ?? 1) - 1),
            BertConfig b => (b.VocabSize, b.MaxPositionEmbeddings),
            _ => (0, 0),
        };
        if (tokenizer.VocabSize > vocab)
            throw new TrainingInputException($"the tokenizer in {tokenizerFolder} has {tokenizer.VocabSize} tokens but the config's vocab_size is {vocab}; use the model's own tokenizer or raise vocab_size.");
        if (o.MaxLength > maxTokens)
            throw new TrainingInputException($"--max-length {o.MaxLength} is more than the model's {maxTokens} positions (max_position_embeddings); lower --max-length.");

        int padId = config.PadTokenId ?? 0;
        bool typeIds = config is BertConfig;
        tokenizer.Truncation = new TruncationOptions { MaxLength = o.MaxLength, Strategy = TruncationStrategy.LongestFirst };
        tokenizer.Padding = null;
        var train = Encode(tokenizer, trainRows, labels, o.DataPath, "train", progress);
        var eval = evalRows is null ? null : Encode(tokenizer, evalRows, labels, o.EvalDataPath!, "eval", progress);

        StartingModel start;
        try { start = ModelSetup.Create(arch, config, raw, initFolder, o.Seed); }
        catch (Exception e) when (e is ArgumentException or ConfigException)
        {
            throw new TrainingInputException($"{o.Init ?? o.Config}: cannot build the model ({e.Message}).", e);
        }
        return new Setup(arch, config, raw, tokenizerFolder, initFolder, train, eval, labels.Names, start, typeIds, padId);
    }

    internal static string ResolveInit(string init)
    {
        try { return HubClient.ResolveModelFolder(init); }
        catch (DirectoryNotFoundException e) { throw new TrainingInputException($"--init {init}: no such model folder ({e.Message}). Give a Hugging Face model folder or a Hub id in the local cache.", e); }
        catch (HubException e) { throw new TrainingInputException($"--init {init}: cannot resolve the model ({e.Message}). Give a model folder, or a Hub id that is in the Hugging Face cache.", e); }
        catch (ArgumentException e) { throw new TrainingInputException($"--init {init}: not a model folder or Hub id ({e.Message}).", e); }
    }

    internal static Tokenizer LoadTokenizer(string folder)
    {
        if (!Directory.Exists(folder)) throw new TrainingInputException($"--tokenizer {folder}: no such folder; give a folder with tokenizer.json (or vocab.txt).");
        try { return Tokenizer.FromPretrained(folder); }
        catch (Exception e) when (e is FileNotFoundException or IOException or TokenizerFormatException or FormatException or JsonException or InvalidDataException or NotSupportedException)
        {
            throw new TrainingInputException($"cannot load a tokenizer from {folder}: {e.Message}", e);
        }
    }

    private static List<DataRow> ReadRows(string path, DataColumns columns, string option)
    {
        try { return TabularData.Read(path, columns).ToList(); }
        catch (FileNotFoundException e) { throw new TrainingInputException($"{option} {path}: file not found.", e); }
        catch (DataFormatException e) { throw new TrainingInputException(e.Message, e); }
    }

    private static List<Example> Encode(Tokenizer tokenizer, List<DataRow> rows, LabelMap labels, string path, string what, IProgress<TrainProgress>? progress)
    {
        var result = new List<Example>(rows.Count);
        const int Chunk = 2048;
        for (int start = 0; start < rows.Count; start += Chunk)
        {
            var part = rows.Skip(start).Take(Chunk).ToList();
            IReadOnlyList<Encoding> enc;
            try { enc = tokenizer.EncodeBatch(part.Select(r => (r.Text, r.Pair)).ToList()); }
            catch (TokenizationException e) { throw new TrainingInputException($"{path}: cannot tokenize ({e.Message}); raise --max-length.", e); }
            for (int i = 0; i < part.Count; i++)
                result.Add(new Example(part[i].Id, enc[i].Ids, enc[i].TypeIds, labels.IdOf(part[i], path)));
            progress?.Report(new TrainProgress("tokenize", 0, 0, Math.Min(start + Chunk, rows.Count), rows.Count, double.NaN, 0, TimeSpan.Zero,
                Message: $"tokenized {Math.Min(start + Chunk, rows.Count)}/{rows.Count} {what} examples"));
        }
        return result;
    }

    // ------------------------------------------------------------------ the loop

    private static ClassifierTrainingResult Run(ClassifierTrainingOptions o, Setup s, string staging, IProgress<TrainProgress>? progress, CancellationToken ct)
    {
        var parameters = s.Start.Parameters;
        var optimizer = new DecayGroups(parameters, o.LearningRate, o.WeightDecay);
        var all = optimizer.All;

        int stepsPerEpoch = (s.Train.Count + o.BatchSize - 1) / o.BatchSize;
        int total = stepsPerEpoch * o.Epochs;
        int warmup = (int)Math.Ceiling(total * (double)o.WarmupRatio);
        var schedule = new LinearSchedule(o.LearningRate, warmup, total);
        var rates = o.NoDropout ? DropoutRates.None : s.Arch.Dropout(s.RawConfig);
        var dropout = new Dropout(new TrainingRandom(o.Seed, "dropout"));
        var shuffle = new TrainingRandom(o.Seed, "shuffle");

        var model = s.Start.Model;
        var history = new List<ClassifierEpoch>();
        var clock = Stopwatch.StartNew();
        var cpu0 = MachineInfo.CpuTime();
        int step = 0, bestEpoch = 0;
        double? bestAccuracy = null;
        long weightBytes = 0;
        var order = Enumerable.Range(0, s.Train.Count).ToArray();
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            shuffle.Shuffle(order);
            double lossSum = 0, lrSum = 0;
            long seen = 0;
            for (int b = 0; b < stepsPerEpoch; b++)
            {
                ct.ThrowIfCancellationRequested();
                var batch = new List<Example>(o.BatchSize);
                for (int i = b * o.BatchSize; i < Math.Min(s.Train.Count, (b + 1) * o.BatchSize); i++) batch.Add(s.Train[order[i]]);
                var input = Batch(batch, s.PadId, s.UsesTypeIds);
                var targets = batch.Select(e => e.Label).ToArray();
                float lr = schedule.RateAt(step);
                float loss;
                using (var tape = Tape.Record())
                {
                    tape.Watch(all);
                    Tensor logits;
                    using (dropout.Install(model, rates))
                        logits = s.Arch.Logits(model, input, dropout, rates.Classifier);
                    var lossT = Ops.CrossEntropy(logits, targets);
                    loss = lossT.Item();
                    if (!float.IsFinite(loss))
                        throw new InvalidOperationException($"training diverged at epoch {epoch}, step {step + 1}: the loss is {loss}; lower --lr.");
                    var grads = tape.Gradient(lossT, all);
                    optimizer.Step(grads, lr, o.Clip);
                }
                step++;
                lossSum += (double)loss * batch.Count;
                lrSum += lr;
                seen += batch.Count;
                progress?.Report(new TrainProgress("train", epoch, o.Epochs, step, total, loss, lr, clock.Elapsed));
            }

            double? evalLoss = null, evalAcc = null;
            if (s.Eval is not null)
            {
                (evalLoss, evalAcc) = Evaluate(model, s.Arch, s.Eval, s.PadId, s.UsesTypeIds);
                progress?.Report(new TrainProgress("evaluate", epoch, o.Epochs, step, total, lossSum / seen, schedule.RateAt(step - 1), clock.Elapsed, evalLoss, evalAcc));
            }
            var record = new ClassifierEpoch(epoch, stepsPerEpoch, lossSum / seen, lrSum / stepsPerEpoch, evalLoss, evalAcc, epochClock.Elapsed.TotalSeconds);
            history.Add(record);

            bool best = s.Eval is null ? epoch == o.Epochs : bestAccuracy is null || evalAcc > bestAccuracy;
            if (best)
            {
                bestEpoch = epoch; bestAccuracy = evalAcc;
                progress?.Report(new TrainProgress("save", epoch, o.Epochs, step, total, lossSum / seen, 0, clock.Elapsed, Message: $"best so far: epoch {epoch}"));
                weightBytes = ModelSetup.WriteModelFolder(staging, s.RawConfig, parameters, s.TokenizerFolder);
            }
            if (o.SaveEveryEpoch)
                ModelSetup.WriteModelFolder(Path.Combine(staging, "checkpoints", $"epoch-{epoch}"), s.RawConfig, parameters, s.TokenizerFolder);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (MachineInfo.CpuTime() - cpu0).TotalSeconds;
        long count = parameters.Sum(p => (long)p.Value.Length);
        var result = new ClassifierTrainingResult(o.OutputDir, s.Labels, history, bestEpoch, bestAccuracy, seconds, cpuSeconds, count, weightBytes);
        File.WriteAllText(Path.Combine(staging, "training.json"), Card(o, s, result, total, warmup, rates));
        progress?.Report(new TrainProgress("done", o.Epochs, o.Epochs, step, total, history[^1].TrainLoss, 0, clock.Elapsed, history[bestEpoch - 1].EvalLoss, bestAccuracy));
        return result;
    }

    private static ModelInput Batch(IReadOnlyList<Example> batch, int padId, bool typeIds) =>
        ModelInput.Pad(batch.Select(e => e.Ids).ToList(), padId, typeIds: typeIds ? batch.Select(e => e.TypeIds).ToList() : null);

    /// <summary>Mean cross-entropy and accuracy of the model on encoded examples (inference mode, no dropout).</summary>
    private static (double Loss, double Accuracy) Evaluate(TransformerModel model, TrainableArchitecture arch, List<Example> examples, int padId, bool typeIds)
    {
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < examples.Count; start += EvalBatch)
        {
            var batch = examples.Skip(start).Take(EvalBatch).ToList();
            using var scope = TensorScope.Enter();
            var logits = model.Forward(Batch(batch, padId, typeIds)).Logits!;
            var targets = batch.Select(e => e.Label).ToArray();
            lossSum += (double)Ops.CrossEntropy(logits, targets).Item() * batch.Count;
            var predicted = Ops.ArgMax(logits, -1);
            for (int i = 0; i < batch.Count; i++) if (predicted[i] == targets[i]) correct++;
        }
        _ = arch;
        return (lossSum / examples.Count, (double)correct / examples.Count);
    }

    /// <summary>Accuracy of a saved classifier on a labelled file (inference only): what the model card's number means.</summary>
    public static double Accuracy(TransformerModel model, Tokenizer tokenizer, string dataPath, DataColumns columns, int maxLength, IReadOnlyList<string> id2label)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var rows = TabularData.Read(dataPath, columns).ToList();
        var labels = LabelMap.ForModel(id2label);
        tokenizer.Truncation = new TruncationOptions { MaxLength = maxLength, Strategy = TruncationStrategy.LongestFirst };
        var examples = Encode(tokenizer, rows, labels, dataPath, "eval", null);
        var config = model switch
        {
            Architectures.Bert b => (ModelConfig)b.Config,
            Architectures.DistilBert d => d.Config,
            Architectures.Roberta r => r.Config,
            _ => throw new NotSupportedException($"Accuracy: {model.ArchitectureName} is not a supported text classifier."),
        };
        return Evaluate(model, null!, examples, config.PadTokenId ?? 0, config is BertConfig).Accuracy;
    }

    // ------------------------------------------------------------------ model card

    private static string Card(ClassifierTrainingOptions o, Setup s, ClassifierTrainingResult r, int totalSteps, int warmup, DropoutRates rates)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("task", "sequence-classification");
            w.WriteString("architecture", s.Arch.ArchitectureName);
            w.WriteString("trainedBy", $"glassbox train classifier {typeof(ClassifierTrainer).Assembly.GetName().Version}");
            if (o.CommandLine is not null) w.WriteString("command", o.CommandLine);
            w.WriteStartObject("data");
            WriteData(w, "train", o.DataPath, s.Train.Count);
            if (o.EvalDataPath is not null) WriteData(w, "eval", o.EvalDataPath, s.Eval!.Count);
            w.WriteString("textColumn", o.Columns.Text);
            w.WriteString("labelColumn", o.Columns.Label);
            if (o.Columns.Pair is not null) w.WriteString("pairColumn", o.Columns.Pair);
            w.WriteEndObject();
            w.WriteStartArray("labels");
            foreach (var l in s.Labels) w.WriteStringValue(l);
            w.WriteEndArray();
            w.WriteStartObject("recipe");
            w.WriteString("init", s.InitFolder is null ? "random (transformers' _init_weights, initializer_range " + ModelSetup.InitializerRange(s.RawConfig).ToString(CultureInfo.InvariantCulture) + ")" : o.Init);
            if (s.Start.NewlyInitialised.Count > 0) { w.WriteStartArray("newlyInitialised"); foreach (var n in s.Start.NewlyInitialised) w.WriteStringValue(n); w.WriteEndArray(); }
            if (s.Start.IgnoredFromCheckpoint.Count > 0) { w.WriteStartArray("ignoredFromCheckpoint"); foreach (var n in s.Start.IgnoredFromCheckpoint) w.WriteStringValue(n); w.WriteEndArray(); }
            w.WriteString("tokenizer", s.TokenizerFolder);
            w.WriteString("optimizer", "AdamW (betas 0.9, 0.999; eps 1e-8; decoupled weight decay, none on biases and LayerNorm weights)");
            w.WriteNumber("learningRate", o.LearningRate);
            w.WriteNumber("weightDecay", o.WeightDecay);
            w.WriteNumber("batchSize", o.BatchSize);
            w.WriteNumber("epochs", o.Epochs);
            w.WriteNumber("stepsPerEpoch", totalSteps / o.Epochs);
            w.WriteNumber("totalSteps", totalSteps);
            w.WriteString("schedule", "linear warm-up then linear decay to 0");
            w.WriteNumber("warmupRatio", o.WarmupRatio);
            w.WriteNumber("warmupSteps", warmup);
            w.WriteNumber("clip", o.Clip);
            w.WriteNumber("maxLength", o.MaxLength);
            w.WriteString("padding", "dynamic (to the longest example of each batch)");
            w.WriteNumber("seed", o.Seed);
            w.WriteString("loss", "mean cross-entropy");
            w.WriteStartObject("dropout");
            w.WriteBoolean("enabled", !rates.IsNone);
            w.WriteNumber("embeddings", rates.Embeddings);
            w.WriteNumber("attention", rates.Attention);
            w.WriteNumber("attentionOutput", rates.AttentionOutput);
            w.WriteNumber("feedForward", rates.FeedForward);
            w.WriteNumber("classifier", rates.Classifier);
            w.WriteEndObject();
            w.WriteString("selection", o.EvalDataPath is null ? "last epoch (no --eval-data)" : "best evaluation accuracy over epochs (first on ties)");
            w.WriteEndObject();
            w.WriteStartArray("history");
            foreach (var e in r.History)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", e.Epoch);
                w.WriteNumber("steps", e.Steps);
                w.WriteNumber("trainLoss", e.TrainLoss);
                w.WriteNumber("meanLearningRate", e.MeanLearningRate);
                if (e.EvalLoss is double el) w.WriteNumber("evalLoss", el);
                if (e.EvalAccuracy is double ea) w.WriteNumber("evalAccuracy", ea);
                w.WriteNumber("seconds", Math.Round(e.Seconds, 2));
                if (o.SaveEveryEpoch) w.WriteString("checkpoint", $"checkpoints/epoch-{e.Epoch}");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("bestEpoch", r.BestEpoch);
            w.WriteStartObject("metrics");
            var best = r.History[r.BestEpoch - 1];
            if (best.EvalAccuracy is double acc) w.WriteNumber("evalAccuracy", acc);
            if (best.EvalLoss is double loss) w.WriteNumber("evalLoss", loss);
            w.WriteNumber("trainLoss", best.TrainLoss);
            w.WriteEndObject();
            w.WriteStartObject("size");
            w.WriteNumber("parameters", r.Parameters);
            w.WriteNumber("weightBytes", r.WeightBytes);
            w.WriteEndObject();
            w.WriteNumber("trainSeconds", Math.Round(r.TrainSeconds, 1));
            w.WriteNumber("cpuSeconds", Math.Round(r.CpuSeconds, 1));
            MachineInfo.Write(w, Parallelism.ThreadCount);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void WriteData(Utf8JsonWriter w, string name, string path, int rows)
    {
        w.WriteStartObject(name);
        w.WriteString("file", path);
        w.WriteNumber("rows", rows);
        w.WriteString("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))));
        w.WriteEndObject();
    }
}

/// <summary>Label strings ↔ class ids.</summary>
internal sealed class LabelMap
{
    private readonly Dictionary<string, int> _ids;
    private readonly bool _numeric;

    private LabelMap(IReadOnlyList<string> names, Dictionary<string, int> ids, bool numeric)
    {
        Names = names; _ids = ids; _numeric = numeric;
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The class id of a row's label; an unknown label names the row and the known ones.</summary>
    public int IdOf(DataRow row, string path)
    {
        string label = (row.Label ?? "").Trim();
        if (label.Length == 0) throw new TrainingInputException($"{path}: row {row.Id} has an empty label.");
        if (_ids.TryGetValue(label, out int id)) return id;
        if (_numeric && int.TryParse(label, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 && n < Names.Count) return n;
        throw new TrainingInputException($"{path}: row {row.Id} has label '{label}', which the training data does not have; known labels: {string.Join(", ", _ids.Keys.Take(20))}.");
    }

    /// <summary>Numeric labels keep their value as the class id; string labels are sorted (or ordered as given).</summary>
    public static LabelMap Build(IReadOnlyList<DataRow> rows, string column, string path, IReadOnlyList<string>? labelNames, IReadOnlyList<string>? configNames)
    {
        var distinct = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            string l = (r.Label ?? "").Trim();
            if (l.Length == 0) throw new TrainingInputException($"{path}: row {r.Id} has an empty '{column}' label.");
            distinct.Add(l);
        }
        if (distinct.Count < 2)
            throw new TrainingInputException($"{path}: the label column '{column}' has only one class ('{distinct.FirstOrDefault()}'); a classifier needs at least two. Check --label-column.");

        var ints = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in distinct)
            if (int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0) ints[l] = v;
        if (ints.Count == distinct.Count)
        {
            int n = ints.Values.Max() + 1;
            if (n > 10_000) throw new TrainingInputException($"{path}: numeric label {n - 1} in '{column}' would need {n} classes; use class ids 0..n−1 or string labels.");
            IReadOnlyList<string> names;
            if (labelNames is not null)
            {
                if (labelNames.Count != n) throw new TrainingInputException($"--label-names gives {labelNames.Count} names but the numeric labels need {n} (0..{n - 1}).");
                names = labelNames;
            }
            else names = configNames is not null && configNames.Count == n ? configNames : Enumerable.Range(0, n).Select(i => $"LABEL_{i}").ToArray();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw new TrainingInputException($"label names must be distinct: {string.Join(", ", names)}.");
            return new LabelMap(names, ints, numeric: true);
        }

        IReadOnlyList<string> order;
        if (labelNames is not null)
        {
            var missing = distinct.Where(l => !labelNames.Contains(l, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0) throw new TrainingInputException($"--label-names does not include the label(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} found in {path}.");
            if (labelNames.Distinct(StringComparer.Ordinal).Count() != labelNames.Count) throw new TrainingInputException($"--label-names must be distinct: {string.Join(", ", labelNames)}.");
            order = labelNames;
        }
        else if (configNames is not null && distinct.All(l => configNames.Contains(l, StringComparer.Ordinal))) order = configNames;
        else order = distinct.ToArray();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < order.Count; i++) ids[order[i]] = i;
        return new LabelMap(order, ids, numeric: false);
    }

    /// <summary>A trained model's labels: its names, or their indices as numbers.</summary>
    public static LabelMap ForModel(IReadOnlyList<string> id2label)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < id2label.Count; i++) ids[id2label[i]] = i;
        return new LabelMap(id2label, ids, numeric: true);
    }
}
