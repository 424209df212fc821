// The contents of a SentencePiece `.model` file: a serialised `sentencepiece.ModelProto`
// (sentencepiece_model.proto, proto2). Only the fields that change encoding or decoding are
// kept; every other field is skipped by wire type, as protobuf requires.
//
// The reader is deliberately strict: the file is untrusted input, so every length is checked
// against the bytes that remain before anything is sliced or allocated, and each problem is
// reported as a FormatException naming the file, the field path and the byte offset.

using UTF8Encoding = System.Text.UTF8Encoding;
using DecoderFallbackException = System.Text.DecoderFallbackException;

namespace Glassbox.Tokenizers.SentencePiece;

/// <summary>Piece types of <c>ModelProto.SentencePiece.Type</c>.</summary>
public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>Algorithms of <c>TrainerSpec.ModelType</c>.</summary>
public enum SentencePieceModelType
{
    Unigram = 1,
    Bpe = 2,
    Word = 3,
    Char = 4,
}

/// <summary>One vocabulary entry: its text, log-probability score (Unigram) or merge priority (BPE), and type.</summary>
public readonly record struct SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>The <c>TrainerSpec</c> fields that matter after training (defaults as in the proto).</summary>
public sealed class SentencePieceTrainerSpec
{
    public SentencePieceModelType ModelType { get; internal set; } = SentencePieceModelType.Unigram;
    public int VocabSize { get; internal set; } = 8000;
    public bool TreatWhitespaceAsSuffix { get; internal set; }
    public bool AllowWhitespaceOnlyPieces { get; internal set; }
    public bool SplitDigits { get; internal set; }
    public bool ByteFallback { get; internal set; }
    public int UnkId { get; internal set; } = 0;
    public int BosId { get; internal set; } = 1;
    public int EosId { get; internal set; } = 2;
    public int PadId { get; internal set; } = -1;
    public string UnkPiece { get; internal set; } = "<unk>";
    public string BosPiece { get; internal set; } = "<s>";
    public string EosPiece { get; internal set; } = "</s>";
    public string PadPiece { get; internal set; } = "<pad>";
    /// <summary>What <c>Decode</c> prints for an unknown piece (default " ⁇ ").</summary>
    public string UnkSurface { get; internal set; } = " \u2047 ";
    public bool HasUnkSurface { get; internal set; }
    public IReadOnlyList<string> ControlSymbols { get; internal set; } = [];
    public IReadOnlyList<string> UserDefinedSymbols { get; internal set; } = [];
}

/// <summary>A <c>NormalizerSpec</c> (also used for the optional denormaliser).</summary>
public sealed class SentencePieceNormalizerSpec
{
    public string Name { get; internal set; } = "";
    /// <summary>The compiled normalisation rules; empty when the spec is an identity.</summary>
    public byte[] PrecompiledCharsMap { get; internal set; } = [];
    public bool AddDummyPrefix { get; internal set; } = true;
    public bool RemoveExtraWhitespaces { get; internal set; } = true;
    public bool EscapeWhitespaces { get; internal set; } = true;
    public string NormalizationRuleTsv { get; internal set; } = "";
}

/// <summary>A parsed SentencePiece model file.</summary>
public sealed class SentencePieceModel
{
    /// <summary>Largest file accepted (real models are a few MB; 2 GB is protobuf's own limit).</summary>
    public const long MaxFileBytes = int.MaxValue;

    public IReadOnlyList<SentencePieceEntry> Pieces { get; }
    public SentencePieceTrainerSpec TrainerSpec { get; }
    public SentencePieceNormalizerSpec NormalizerSpec { get; }
    /// <summary>The denormaliser applied after decoding, or null.</summary>
    public SentencePieceNormalizerSpec? DenormalizerSpec { get; }
    /// <summary>File name (or caller-supplied label) used in error messages.</summary>
    public string Source { get; }

    private SentencePieceModel(List<SentencePieceEntry> pieces, SentencePieceTrainerSpec trainer,
        SentencePieceNormalizerSpec normalizer, SentencePieceNormalizerSpec? denormalizer, string source)
    {
        Pieces = pieces;
        TrainerSpec = trainer;
        NormalizerSpec = normalizer;
        DenormalizerSpec = denormalizer;
        Source = source;
    }

    /// <summary>Reads a <c>spiece.model</c> / <c>tokenizer.model</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is not a valid ModelProto.</exception>
    public static SentencePieceModel FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"SentencePiece model file not found: {path}", path);
        if (info.Length > MaxFileBytes)
            throw new FormatException($"{path}: {info.Length} bytes is larger than a protobuf message can be.");
        return FromBytes(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a serialised ModelProto; <paramref name="source"/> names it in errors.</summary>
    public static SentencePieceModel FromBytes(byte[] data, string source = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0) throw new FormatException($"{source}: the file is empty, not a SentencePiece model.");
        var reader = new ProtoReader(data, source);
        var pieces = new List<SentencePieceEntry>();
        var trainer = new SentencePieceTrainerSpec();
        var normalizer = new SentencePieceNormalizerSpec();
        SentencePieceNormalizerSpec? denormalizer = null;
        bool sawTrainer = false;
        reader.ReadMessage(0, data.Length, "ModelProto", (r, field, wire, path) =>
        {
            switch (field)
            {
                case 1:
                    var (s, e) = r.ExpectBytes(wire, path + ".pieces");
                    pieces.Add(ReadPiece(r, s, e, $"{path}.pieces[{pieces.Count}]"));
                    return true;
                case 2:
                    (s, e) = r.ExpectBytes(wire, path + ".trainer_spec");
                    ReadTrainerSpec(r, s, e, path + ".trainer_spec", trainer);
                    sawTrainer = true;
                    return true;
                case 3:
                    (s, e) = r.ExpectBytes(wire, path + ".normalizer_spec");
                    ReadNormalizerSpec(r, s, e, path + ".normalizer_spec", normalizer);
                    return true;
                case 5:
                    (s, e) = r.ExpectBytes(wire, path + ".denormalizer_spec");
                    denormalizer ??= new SentencePieceNormalizerSpec();
                    ReadNormalizerSpec(r, s, e, path + ".denormalizer_spec", denormalizer);
                    return true;
                default:
                    return false;
            }
        });
        if (pieces.Count == 0)
            throw new FormatException($"{source}: ModelProto.pieces is empty; this is not a SentencePiece model.");
        if (!sawTrainer && pieces.Count < 2)
            throw new FormatException($"{source}: ModelProto.trainer_spec is missing.");
        if (!Enum.IsDefined(trainer.ModelType))
            throw new FormatException($"{source}: ModelProto.trainer_spec.model_type has unknown value {(int)trainer.ModelType}.");
        return new SentencePieceModel(pieces, trainer, normalizer, denormalizer, source);
    }

    private static SentencePieceEntry ReadPiece(ProtoReader r, int start, int end, string path)
    {
        string? piece = null;
        float score = 0;
        var type = SentencePieceType.Normal;
        r.ReadMessage(start, end, path, (r2, field, wire, p) =>
        {
            switch (field)
            {
                case 1: piece = r2.ExpectString(wire, p + ".piece"); return true;
                case 2: score = r2.ExpectFloat(wire, p + ".score"); return true;
                case 3:
                    long t = r2.ExpectVarint(wire, p + ".type");
                    if (t < 1 || t > 6) throw r2.Error(p + ".type", $"unknown piece type {t}");
                    type = (SentencePieceType)t;
                    return true;
                default: return false;
            }
        });
        if (string.IsNullOrEmpty(piece)) throw r.Error(path + ".piece", "piece must not be empty");
        return new SentencePieceEntry(piece, score, type);
    }

    private static void ReadTrainerSpec(ProtoReader r, int start, int end, string path, SentencePieceTrainerSpec t)
    {
        var control = new List<string>();
        var user = new List<string>();
        r.ReadMessage(start, end, path, (r2, field, wire, p) =>
        {
            switch (field)
            {
                case 3:
                    long mt = r2.ExpectVarint(wire, p + ".model_type");
                    if (mt < 1 || mt > 4) throw r2.Error(p + ".model_type", $"unknown model type {mt}");
                    t.ModelType = (SentencePieceModelType)mt;
                    return true;
                case 4: t.VocabSize = (int)r2.ExpectVarint(wire, p + ".vocab_size"); return true;
                case 24: t.TreatWhitespaceAsSuffix = r2.ExpectVarint(wire, p + ".treat_whitespace_as_suffix") != 0; return true;
                case 26: t.AllowWhitespaceOnlyPieces = r2.ExpectVarint(wire, p + ".allow_whitespace_only_pieces") != 0; return true;
                case 25: t.SplitDigits = r2.ExpectVarint(wire, p + ".split_digits") != 0; return true;
                case 30: control.Add(r2.ExpectString(wire, p + ".control_symbols")); return true;
                case 31: user.Add(r2.ExpectString(wire, p + ".user_defined_symbols")); return true;
                case 35: t.ByteFallback = r2.ExpectVarint(wire, p + ".byte_fallback") != 0; return true;
                case 40: t.UnkId = (int)r2.ExpectVarint(wire, p + ".unk_id"); return true;
                case 41: t.BosId = (int)r2.ExpectVarint(wire, p + ".bos_id"); return true;
                case 42: t.EosId = (int)r2.ExpectVarint(wire, p + ".eos_id"); return true;
                case 43: t.PadId = (int)r2.ExpectVarint(wire, p + ".pad_id"); return true;
                case 44: t.UnkSurface = r2.ExpectString(wire, p + ".unk_surface"); t.HasUnkSurface = true; return true;
                case 45: t.UnkPiece = NonEmptyOr(r2.ExpectString(wire, p + ".unk_piece"), t.UnkPiece); return true;
                case 46: t.BosPiece = NonEmptyOr(r2.ExpectString(wire, p + ".bos_piece"), t.BosPiece); return true;
                case 47: t.EosPiece = NonEmptyOr(r2.ExpectString(wire, p + ".eos_piece"), t.EosPiece); return true;
                case 48: t.PadPiece = NonEmptyOr(r2.ExpectString(wire, p + ".pad_piece"), t.PadPiece); return true;
                default: return false;
            }
        });
        t.ControlSymbols = control;
        t.UserDefinedSymbols = user;
    }

    // sentencepiece falls back to the default piece name when the field is set but empty.
    private static string NonEmptyOr(string value, string fallback) => value.Length > 0 ? value : fallback;

    private static void ReadNormalizerSpec(ProtoReader r, int start, int end, string path, SentencePieceNormalizerSpec n)
    {
        r.ReadMessage(start, end, path, (r2, field, wire, p) =>
        {
            switch (field)
            {
                case 1: n.Name = r2.ExpectString(wire, p + ".name"); return true;
                case 2:
                    var (s, e) = r2.ExpectBytes(wire, p + ".precompiled_charsmap");
                    n.PrecompiledCharsMap = r2.Data.AsSpan(s, e - s).ToArray();
                    return true;
                case 3: n.AddDummyPrefix = r2.ExpectVarint(wire, p + ".add_dummy_prefix") != 0; return true;
                case 4: n.RemoveExtraWhitespaces = r2.ExpectVarint(wire, p + ".remove_extra_whitespaces") != 0; return true;
                case 5: n.EscapeWhitespaces = r2.ExpectVarint(wire, p + ".escape_whitespaces") != 0; return true;
                case 6: n.NormalizationRuleTsv = r2.ExpectString(wire, p + ".normalization_rule_tsv"); return true;
                default: return false;
            }
        });
    }
}

/// <summary>
/// A bounds-checked protobuf wire-format reader over a byte array. Nested messages are read
/// in place (start/end offsets), so nothing is allocated beyond the strings that are kept.
/// </summary>
internal sealed class ProtoReader
{
    internal const int WireVarint = 0, WireFixed64 = 1, WireBytes = 2, WireStartGroup = 3, WireEndGroup = 4, WireFixed32 = 5;
    private const int MaxDepth = 64;
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public byte[] Data { get; }
    private readonly string _source;
    private int _pos;
    private int _end;
    private int _depth;

    public ProtoReader(byte[] data, string source)
    {
        Data = data;
        _source = source;
    }

    public FormatException Error(string field, string problem) =>
        new($"{_source}: field {field} at byte {_pos}: {problem}. The file is truncated or not a SentencePiece model.");

    /// <summary>
    /// Reads the fields of the message in [start, end). <paramref name="handle"/> consumes the
    /// value of fields it knows and returns true; other fields are skipped.
    /// </summary>
    public void ReadMessage(int start, int end, string path, Func<ProtoReader, int, int, string, bool> handle)
    {
        if (++_depth > MaxDepth) throw Error(path, "messages are nested too deeply");
        int savedEnd = _end;
        _pos = start;
        _end = end;
        while (_pos < _end)
        {
            int tagPos = _pos;
            ulong tag = ReadRawVarint(path);
            int field = (int)(tag >> 3);
            int wire = (int)(tag & 7);
            if (tag >> 3 == 0 || tag >> 3 > 536870911) { _pos = tagPos; throw Error(path, $"invalid tag {tag}"); }
            if (wire == WireEndGroup) { _pos = tagPos; throw Error(path, "unexpected end-group tag"); }
            if (!handle(this, field, wire, path))
                Skip(wire, field, $"{path} (field {field})");
        }
        _end = savedEnd;
        _depth--;
    }

    public long ExpectVarint(int wire, string field)
    {
        if (wire != WireVarint) throw Error(field, $"wire type {wire} where a varint was expected");
        return (long)ReadRawVarint(field);
    }

    public float ExpectFloat(int wire, string field)
    {
        if (wire != WireFixed32) throw Error(field, $"wire type {wire} where a 32-bit float was expected");
        if (_end - _pos < 4) throw Error(field, "needs 4 bytes, fewer remain");
        float f = BitConverter.Int32BitsToSingle(Data[_pos] | Data[_pos + 1] << 8 | Data[_pos + 2] << 16 | Data[_pos + 3] << 24);
        _pos += 4;
        return f;
    }

    /// <summary>A length-delimited field; returns its [start, end) and moves past it.</summary>
    public (int Start, int End) ExpectBytes(int wire, string field)
    {
        if (wire != WireBytes) throw Error(field, $"wire type {wire} where a length-delimited value was expected");
        ulong len = ReadRawVarint(field);
        if (len > (ulong)(_end - _pos))
            throw Error(field, $"declares {len} bytes but only {_end - _pos} remain in the enclosing message");
        int start = _pos;
        _pos += (int)len;
        return (start, _pos);
    }

    public string ExpectString(int wire, string field)
    {
        var (s, e) = ExpectBytes(wire, field);
        try
        {
            return StrictUtf8.GetString(Data, s, e - s);
        }
        catch (DecoderFallbackException)
        {
            _pos = s;
            throw Error(field, "is not valid UTF-8");
        }
    }

    private ulong ReadRawVarint(string field)
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _end) throw Error(field, "varint runs past the end of the message");
            byte b = Data[_pos++];
            if (shift == 63 && b > 1) throw Error(field, "varint is longer than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error(field, "varint is longer than 10 bytes");
    }

    private void Skip(int wire, int field, string path)
    {
        switch (wire)
        {
            case WireVarint: ReadRawVarint(path); break;
            case WireFixed64:
                if (_end - _pos < 8) throw Error(path, "needs 8 bytes, fewer remain");
                _pos += 8;
                break;
            case WireFixed32:
                if (_end - _pos < 4) throw Error(path, "needs 4 bytes, fewer remain");
                _pos += 4;
                break;
            case WireBytes: ExpectBytes(wire, path); break;
            case WireStartGroup:
                // Deprecated groups: skip nested fields until the matching end-group tag.
                if (++_depth > MaxDepth) throw Error(path, "groups are nested too deeply");
                while (true)
                {
                    if (_pos >= _end) throw Error(path, "group is not terminated");
                    ulong tag = ReadRawVarint(path);
                    int w = (int)(tag & 7);
                    if (w == WireEndGroup)
                    {
                        if ((int)(tag >> 3) != field) throw Error(path, "mismatched end-group tag");
                        break;
                    }
                    Skip(w, (int)(tag >> 3), path);
                }
                _depth--;
                break;
            default:
                throw Error(path, $"invalid wire type {wire}");
        }
    }
}
