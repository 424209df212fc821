// Encoding and decoding with the semantics of the sentencepiece library itself (the C++
// SentencePieceProcessor that Python's `sentencepiece` wraps), for models loaded from a
// `.model` file rather than from tokenizer.json:
//
//   Normalize (normalizer.cc) -> model Encode (unigram_model.cc EncodeOptimized, bpe_model.cc,
//   word/char models) -> PopulateSentencePieceText (byte fallback, merging runs of unknown
//   pieces, surfaces/offsets).
//
// Everything runs on UTF-8 bytes, as sentencepiece does, and scores use float32 arithmetic so
// that ties break the same way. Offsets are mapped back to UTF-16 indices of the input string.


namespace Glassbox.Tokenizers.SentencePiece;

/// <summary>Result of <see cref="SentencePieceProcessor.Encode"/>.</summary>
/// <param name="Ids">Piece ids.</param>
/// <param name="Pieces">Piece strings (an unknown run is one piece holding the original characters; byte-fallback pieces read <c>&lt;0xXX&gt;</c>).</param>
/// <param name="Offsets">UTF-16 [Start, End) of each piece's surface in the input; all but the last byte piece of a character are empty at its start.</param>
public sealed record SentencePieceEncoding(int[] Ids, string[] Pieces, (int Start, int End)[] Offsets);

/// <summary>A SentencePiece model ready to encode and decode, matching the sentencepiece library.</summary>
public sealed class SentencePieceProcessor
{
    private const float UnkPenalty = 10.0f;

    private readonly SentencePieceModel _model;
    private readonly SentencePieceEntry[] _pieces;
    private readonly SentencePieceNormalizer _normalizer;
    private readonly SentencePieceNormalizer? _denormalizer;
    private readonly Dictionary<string, int> _reservedIds = new(StringComparer.Ordinal); // control, unknown, byte
    private readonly Dictionary<string, int> _normalIds = new(StringComparer.Ordinal);   // normal, user-defined, unused
    private readonly ByteTrie _trie = new();
    private int[] _normalAt = [];    // trie node -> id of the normal/user/unused piece ending there, or -1
    private int[] _reservedAt = [];  // trie node -> id of the reserved piece ending there, or -1
    private readonly int[] _byteIds = new int[256];
    private readonly int _unkId;
    private readonly float _minScore = float.MaxValue;
    private readonly float _maxScore = 1.17549435E-38f; // FLT_MIN, as in unigram_model.cc

    /// <summary>The parsed model.</summary>
    public SentencePieceModel Model => _model;

    /// <summary>Number of pieces.</summary>
    public int VocabSize => _pieces.Length;

    /// <summary>Id of <c>unk_piece</c> when it is the UNKNOWN piece, else -1 (sentencepiece's unk_id()).</summary>
    public int UnkId => PieceToId(_model.TrainerSpec.UnkPiece) is int id && IsUnknown(id) ? id : -1;

    /// <summary>Id of <c>bos_piece</c> when it is a control piece, else -1 (as sentencepiece's bos_id()).</summary>
    public int BosId => SpecialId(_model.TrainerSpec.BosPiece);

    /// <summary>Id of <c>eos_piece</c>, or -1 when the model has none.</summary>
    public int EosId => SpecialId(_model.TrainerSpec.EosPiece);

    /// <summary>Id of <c>pad_piece</c>, or -1 when the model has none.</summary>
    public int PadId => SpecialId(_model.TrainerSpec.PadPiece);

    /// <summary>Loads a <c>.model</c> file.</summary>
    public static SentencePieceProcessor FromFile(string path) => new(SentencePieceModel.FromFile(path));

    /// <summary>Builds a processor; fails like sentencepiece's loader on inconsistent vocabularies.</summary>
    /// <exception cref="FormatException">Duplicate pieces, no unknown piece, byte pieces without byte_fallback, and so on.</exception>
    public SentencePieceProcessor(SentencePieceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _pieces = model.Pieces.ToArray();
        string src = model.Source;
        var userDefined = new List<string>();
        bool[] byteFound = new bool[256];
        _unkId = -1;
        Array.Fill(_byteIds, -1);
        var nodeIds = new List<(int Node, int Id, bool Reserved)>(_pieces.Length);

        for (int i = 0; i < _pieces.Length; i++)
        {
            var p = _pieces[i];
            bool normal = p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused;
            var map = normal ? _normalIds : _reservedIds;
            if (!map.TryAdd(p.Piece, i))
                throw new FormatException($"{src}: pieces[{i}] \"{p.Piece}\" is already defined (pieces[{map[p.Piece]}]).");
            nodeIds.Add((_trie.Insert(System.Text.Encoding.UTF8.GetBytes(p.Piece)), i, !normal));
            if (p.Type == SentencePieceType.UserDefined) userDefined.Add(p.Piece);
            if (p.Type == SentencePieceType.Unknown)
            {
                if (_unkId >= 0) throw new FormatException($"{src}: pieces[{i}]: unk is already defined (pieces[{_unkId}]).");
                _unkId = i;
            }
            if (p.Type == SentencePieceType.Byte)
            {
                if (!model.TrainerSpec.ByteFallback)
                    throw new FormatException($"{src}: pieces[{i}]: byte piece {p.Piece} is found although trainer_spec.byte_fallback is false.");
                int b = PieceToByte(p.Piece);
                if (b < 0) throw new FormatException($"{src}: pieces[{i}]: byte piece {p.Piece} is invalid (expected <0x00>..<0xFF>).");
                byteFound[b] = true;
                _byteIds[b] = i;
            }
            if (p.Type == SentencePieceType.Normal)
            {
                _minScore = Math.Min(_minScore, p.Score);
                _maxScore = Math.Max(_maxScore, p.Score);
            }
        }
        if (_unkId < 0) throw new FormatException($"{src}: ModelProto.pieces has no piece of type UNKNOWN (unk is not defined).");
        if (model.TrainerSpec.ByteFallback && Array.IndexOf(byteFound, false) >= 0)
            throw new FormatException($"{src}: trainer_spec.byte_fallback is true but the 256 byte pieces <0x00>..<0xFF> are not all present.");
        if (model.TrainerSpec.ModelType == SentencePieceModelType.Unigram && _normalIds.Count == 0)
            throw new FormatException($"{src}: a Unigram model needs at least one normal piece.");

        _normalAt = new int[_trie.NodeCount];
        _reservedAt = new int[_trie.NodeCount];
        Array.Fill(_normalAt, -1);
        Array.Fill(_reservedAt, -1);
        foreach (var (node, id, reserved) in nodeIds)
            (reserved ? _reservedAt : _normalAt)[node] = id;

        ByteTrie? udTrie = null;
        bool[]? udEnds = null;
        if (userDefined.Count > 0)
        {
            udTrie = new ByteTrie();
            var ends = new List<int>();
            foreach (var s in userDefined) ends.Add(udTrie.Insert(System.Text.Encoding.UTF8.GetBytes(s)));
            udEnds = new bool[udTrie.NodeCount];
            foreach (int e in ends) udEnds[e] = true;
        }
        _normalizer = new SentencePieceNormalizer(model.NormalizerSpec, model.TrainerSpec.TreatWhitespaceAsSuffix, udTrie, udEnds, src);
        var den = model.DenormalizerSpec;
        if (den != null && den.PrecompiledCharsMap.Length > 0)
            _denormalizer = new SentencePieceNormalizer(den, false, null, null, src + " (denormalizer)");
    }

    private int SpecialId(string piece)
    {
        int id = PieceToId(piece);
        return IsControl(id) ? id : -1;
    }

    /// <summary>Id of a piece; the unknown id when the piece is not in the vocabulary.</summary>
    public int PieceToId(string piece)
    {
        if (_reservedIds.TryGetValue(piece, out int id)) return id;
        return _normalIds.TryGetValue(piece, out id) ? id : _unkId;
    }

    /// <summary>The piece string of an id.</summary>
    public string IdToPiece(int id)
    {
        if ((uint)id >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(id), id, $"id must be in [0, {_pieces.Length}).");
        return _pieces[id].Piece;
    }

    /// <summary>Type of the piece with this id.</summary>
    public SentencePieceType GetPieceType(int id) => _pieces[id].Type;

    /// <summary>Score of the piece with this id.</summary>
    public float GetScore(int id) => _pieces[id].Score;

    public bool IsControl(int id) => _pieces[id].Type == SentencePieceType.Control;
    public bool IsUnknown(int id) => _pieces[id].Type == SentencePieceType.Unknown;
    public bool IsUnused(int id) => _pieces[id].Type == SentencePieceType.Unused;
    public bool IsByte(int id) => _pieces[id].Type == SentencePieceType.Byte;

    /// <summary>The normalised text the model segments (spaces shown as U+2581 when escaped).</summary>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = new Buffer<byte>(text.Length * 3 + 8);
        var normToOrig = new Buffer<int>(text.Length * 3 + 8);
        _normalizer.Normalize(System.Text.Encoding.UTF8.GetBytes(text), normalized, normToOrig);
        return System.Text.Encoding.UTF8.GetString(normalized.AsSpan());
    }

    /// <summary>Piece ids of <paramref name="text"/> (no BOS/EOS, as sentencepiece's Encode).</summary>
    public int[] EncodeToIds(string text) => Encode(text).Ids;

    /// <summary>Pieces of <paramref name="text"/>.</summary>
    public string[] EncodeToPieces(string text) => Encode(text).Pieces;

    /// <summary>Encodes <paramref name="text"/> into ids, pieces and UTF-16 offsets.</summary>
    public SentencePieceEncoding Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] input = System.Text.Encoding.UTF8.GetBytes(text);
        var normalized = new Buffer<byte>(input.Length * 3 + 8);
        var normToOrig = new Buffer<int>(input.Length * 3 + 8);
        _normalizer.Normalize(input, normalized, normToOrig);
        var segments = new Buffer<(int Start, int Length, int Id)>(normalized.Count + 1);
        ReadOnlySpan<byte> norm = normalized.AsSpan();
        if (!norm.IsEmpty)
        {
            switch (_model.TrainerSpec.ModelType)
            {
                case SentencePieceModelType.Unigram: EncodeUnigram(norm, segments); break;
                case SentencePieceModelType.Bpe: EncodeBpe(norm, segments); break;
                case SentencePieceModelType.Word: EncodeWord(norm, segments); break;
                default: EncodeChar(norm, segments); break;
            }
        }
        return Populate(text, input, norm, normToOrig, segments);
    }

    // PopulateSentencePieceText: byte fallback for unknown pieces, merging runs of unknowns.
    private SentencePieceEncoding Populate(string text, byte[] input, ReadOnlySpan<byte> norm, Buffer<int> normToOrig,
        Buffer<(int Start, int Length, int Id)> segments)
    {
        int[] byteToUtf16 = ByteToUtf16(text, input.Length);
        var ids = new List<int>(segments.Count);
        var pieces = new List<string>(segments.Count);
        var offsets = new List<(int, int)>(segments.Count);
        bool byteFallback = _model.TrainerSpec.ByteFallback;
        bool prevUnk = false;
        int lastUnkStart = 0;
        for (int k = 0; k < segments.Count; k++)
        {
            var (start, length, id) = segments[k];
            bool isUnk = IsUnknown(id);
            int origBegin = normToOrig[start];
            int origEnd = normToOrig[start + length];
            var w = norm.Slice(start, length);
            if (isUnk && byteFallback)
            {
                for (int i = 0; i < w.Length; i++)
                {
                    int byteId = _byteIds[w[i]];
                    ids.Add(byteId);
                    pieces.Add(_pieces[byteId].Piece);
                    int u0 = byteToUtf16[origBegin];
                    offsets.Add(i == w.Length - 1 ? (u0, byteToUtf16[origEnd]) : (u0, u0));
                }
            }
            else if (prevUnk && isUnk)
            {
                pieces[^1] = System.Text.Encoding.UTF8.GetString(norm.Slice(lastUnkStart, start + length - lastUnkStart));
                offsets[^1] = (offsets[^1].Item1, byteToUtf16[origEnd]);
            }
            else
            {
                ids.Add(id);
                pieces.Add(isUnk || _pieces[id].Type == SentencePieceType.Control
                    ? System.Text.Encoding.UTF8.GetString(w)
                    : _pieces[id].Piece);
                offsets.Add((byteToUtf16[origBegin], byteToUtf16[origEnd]));
                if (isUnk) lastUnkStart = start;
            }
            prevUnk = isUnk;
        }
        return new SentencePieceEncoding(ids.ToArray(), pieces.ToArray(), offsets.ToArray());
    }

    // UTF-8 byte offset -> UTF-16 index (a byte inside a character maps to the character's start).
    private static int[] ByteToUtf16(string text, int byteCount)
    {
        var map = new int[byteCount + 1];
        int b = 0;
        for (int i = 0; i < text.Length; i++)
        {
            int n;
            char c = text[i];
            if (c < 0x80) n = 1;
            else if (c < 0x800) n = 2;
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) n = 4;
            else n = 3; // BMP, or a lone surrogate (encoded as U+FFFD)
            for (int k = 0; k < n && b + k < map.Length; k++) map[b + k] = i;
            b += n;
            if (n == 4) i++;
        }
        for (; b <= byteCount; b++) map[b] = text.Length;
        return map;
    }

    // unigram_model.cc, Model::EncodeOptimized: Viterbi over the lattice generated on the fly.
    private void EncodeUnigram(ReadOnlySpan<byte> norm, Buffer<(int, int, int)> output)
    {
        int size = norm.Length;
        float unkScore = _minScore - UnkPenalty;
        var bestScore = new float[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        Array.Fill(bestId, -1);
        int startsAt = 0;
        while (startsAt < size)
        {
            float tillHere = bestScore[startsAt];
            bool hasSingleNode = false;
            int mblen = Math.Min(SentencePieceNormalizer.OneCharLen(norm[startsAt]), size - startsAt);
            int node = 0;
            for (int keyPos = startsAt; keyPos < size;)
            {
                node = _trie.Child(node, norm[keyPos]);
                keyPos++;
                if (node < 0) break;
                int id = _normalAt[node];
                if (id < 0) continue;
                var type = _pieces[id].Type;
                if (type == SentencePieceType.Unused) continue;
                int length = keyPos - startsAt;
                bool better;
                float candidate;
                if (type == SentencePieceType.UserDefined)
                {
                    // C++: (length * max_score_ - 0.1) is a double; the sum is compared as a double.
                    double c = (double)((float)length * _maxScore) - 0.1 + tillHere;
                    better = bestStart[keyPos] == -1 || c > bestScore[keyPos];
                    candidate = (float)c;
                }
                else
                {
                    candidate = _pieces[id].Score + tillHere;
                    better = bestStart[keyPos] == -1 || candidate > bestScore[keyPos];
                }
                if (better)
                {
                    bestScore[keyPos] = candidate;
                    bestStart[keyPos] = startsAt;
                    bestId[keyPos] = id;
                }
                if (!hasSingleNode && length == mblen) hasSingleNode = true;
            }
            if (!hasSingleNode)
            {
                int end = startsAt + mblen;
                float candidate = unkScore + tillHere;
                if (bestStart[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    bestStart[end] = startsAt;
                    bestId[end] = _unkId;
                }
            }
            startsAt += mblen;
        }
        int first = output.Count;
        for (int endsAt = size; endsAt > 0;)
        {
            int s = bestStart[endsAt];
            if (s < 0) throw new InvalidOperationException($"{_model.Source}: no segmentation reaches byte {endsAt} (corrupt vocabulary).");
            output.Add((s, endsAt - s, bestId[endsAt]));
            endsAt = s;
        }
        output.AsSpan()[first..].Reverse();
    }

    private int NormalIdOf(ReadOnlySpan<byte> piece)
    {
        int node = _trie.Find(piece);
        return node < 0 ? -1 : _normalAt[node];
    }

    // ModelInterface::PieceToId on bytes: reserved pieces first, then normal ones, else unk.
    private int IdOf(ReadOnlySpan<byte> piece)
    {
        int node = _trie.Find(piece);
        if (node < 0) return _unkId;
        if (_reservedAt[node] >= 0) return _reservedAt[node];
        return _normalAt[node] >= 0 ? _normalAt[node] : _unkId;
    }

    private struct Symbol
    {
        public int Prev, Next, Start, Length;
        public bool Freeze;
    }

    private sealed class PairOrder : IComparer<(float Score, int Left)>
    {
        public static readonly PairOrder Instance = new();
        // PriorityQueue dequeues the smallest: order by higher score, then smaller left index.
        public int Compare((float Score, int Left) a, (float Score, int Left) b)
        {
            if (a.Score != b.Score) return a.Score > b.Score ? -1 : 1;
            return a.Left.CompareTo(b.Left);
        }
    }

    // bpe_model.cc, Model::SampleEncode without dropout: repeatedly merge the adjacent pair whose
    // concatenation is the highest-scoring piece (leftmost on ties).
    private void EncodeBpe(ReadOnlySpan<byte> norm, Buffer<(int, int, int)> output)
    {
        var symbols = new Buffer<Symbol>(norm.Length);
        for (int pos = 0, index = 0; pos < norm.Length; index++)
        {
            int mblen = _normalizer.PrefixMatch(norm[pos..], out bool freeze);
            symbols.Add(new Symbol
            {
                Prev = index - 1,
                Next = pos + mblen < norm.Length ? index + 1 : -1,
                Start = pos,
                Length = mblen,
                Freeze = freeze,
            });
            pos += mblen;
        }
        if (symbols.Count == 0) return;

        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float, int)>(PairOrder.Instance);
        Dictionary<string, int>? revMerge = null; // unused piece -> byte length of its left part

        void MaybeAdd(int left, int right, ReadOnlySpan<byte> text)
        {
            if (left == -1 || right == -1 || symbols[left].Freeze || symbols[right].Freeze) return;
            int size = symbols[left].Length + symbols[right].Length;
            int id = NormalIdOf(text.Slice(symbols[left].Start, size));
            if (id < 0) return;
            agenda.Enqueue((left, right, size), (_pieces[id].Score, left));
            if (_pieces[id].Type == SentencePieceType.Unused)
            {
                revMerge ??= new Dictionary<string, int>(StringComparer.Ordinal);
                revMerge[System.Text.Encoding.UTF8.GetString(text.Slice(symbols[left].Start, size))] = symbols[left].Length;
            }
        }

        for (int i = 1; i < symbols.Count; i++) MaybeAdd(i - 1, i, norm);

        while (agenda.TryDequeue(out var top, out _))
        {
            ref var l = ref symbols[top.Left];
            ref var r = ref symbols[top.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != top.Size) continue;
            l.Length += r.Length;
            l.Next = r.Next;
            if (r.Next >= 0) symbols[r.Next].Prev = top.Left;
            r.Length = 0;
            MaybeAdd(l.Prev, top.Left, norm);
            MaybeAdd(top.Left, l.Next, norm);
        }

        for (int index = 0; index != -1; index = symbols[index].Next)
            Resegment(norm, symbols[index].Start, symbols[index].Length, revMerge, output);
    }

    private void Resegment(ReadOnlySpan<byte> norm, int start, int length, Dictionary<string, int>? revMerge,
        Buffer<(int, int, int)> output)
    {
        var w = norm.Slice(start, length);
        int id = IdOf(w);
        if (!IsUnused(id) || revMerge == null
            || !revMerge.TryGetValue(System.Text.Encoding.UTF8.GetString(w), out int leftLength))
        {
            output.Add((start, length, id));
            return;
        }
        Resegment(norm, start, leftLength, revMerge, output);
        Resegment(norm, start + leftLength, length - leftLength, revMerge, output);
    }

    // word_model.cc: split before each U+2581 and look each word up whole.
    private void EncodeWord(ReadOnlySpan<byte> norm, Buffer<(int, int, int)> output)
    {
        ReadOnlySpan<byte> space = [0xE2, 0x96, 0x81];
        int wordStart = 0;
        for (int pos = 0; pos < norm.Length;)
        {
            int mblen = Math.Min(SentencePieceNormalizer.OneCharLen(norm[pos]), norm.Length - pos);
            if (pos > 0 && norm.Slice(pos, mblen).SequenceEqual(space))
            {
                output.Add((wordStart, pos - wordStart, IdOf(norm[wordStart..pos])));
                wordStart = pos;
            }
            pos += mblen;
        }
        output.Add((wordStart, norm.Length - wordStart, IdOf(norm[wordStart..])));
    }

    // char_model.cc: one piece per character (user-defined symbols kept whole).
    private void EncodeChar(ReadOnlySpan<byte> norm, Buffer<(int, int, int)> output)
    {
        for (int pos = 0; pos < norm.Length;)
        {
            int mblen = _normalizer.PrefixMatch(norm[pos..], out _);
            output.Add((pos, mblen, IdOf(norm.Slice(pos, mblen))));
            pos += mblen;
        }
    }

    /// <summary>Decodes ids as sentencepiece's DecodeIds does.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var pieces = new string[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)_pieces.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Invalid id {id} at position {i}: the vocabulary has {_pieces.Length} pieces.");
            pieces[i] = _pieces[id].Piece;
        }
        return DecodePieces(pieces);
    }

    /// <summary>Decodes pieces as sentencepiece's DecodePieces does.</summary>
    public string DecodePieces(IReadOnlyList<string> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var spec = _model.NormalizerSpec;
        string unkSurface = _model.TrainerSpec.UnkSurface;
        var text = new Buffer<byte>(64);
        var bytes = new Buffer<byte>(16);
        bool isBosWs = true;
        bool bosWsSeen = false;

        void FlushBytes()
        {
            var b = bytes.AsSpan();
            int offset = 0;
            while (offset < b.Length)
            {
                int n = SentencePieceNormalizer.ValidUtf8Length(b[offset..]);
                if (n == 0)
                {
                    text.AddRange([0xEF, 0xBF, 0xBD]);
                    offset += 1;
                }
                else
                {
                    text.AddRange(b.Slice(offset, n));
                    offset += n;
                }
            }
            bytes.Clear();
        }

        foreach (var piece in pieces)
        {
            int id = PieceToId(piece);
            if (IsByte(id))
            {
                bytes.Add((byte)PieceToByte(piece));
                continue;
            }
            FlushBytes();
            if (bosWsSeen || text.Count > 0) isBosWs = false;

            string surface;
            bosWsSeen = false;
            if (IsControl(id))
            {
                surface = "";
            }
            else if (IsUnknown(id))
            {
                surface = _pieces[id].Piece == piece ? unkSurface : piece;
            }
            else
            {
                string p = piece;
                if (isBosWs && (spec.AddDummyPrefix || spec.RemoveExtraWhitespaces))
                {
                    if (p.StartsWith('\u2581'))
                    {
                        p = p[1..];
                        bosWsSeen = true;
                    }
                    if (spec.RemoveExtraWhitespaces) bosWsSeen = false;
                }
                surface = p.Replace('\u2581', ' ');
            }
            text.AddRange(System.Text.Encoding.UTF8.GetBytes(surface));
        }
        FlushBytes();

        if (_denormalizer != null)
        {
            var outBuf = new Buffer<byte>(text.Count + 8);
            var map = new Buffer<int>(text.Count + 8);
            _denormalizer.Normalize(text.AsSpan(), outBuf, map);
            return System.Text.Encoding.UTF8.GetString(outBuf.AsSpan());
        }
        return System.Text.Encoding.UTF8.GetString(text.AsSpan());
    }

    /// <summary>The byte of a <c>&lt;0xXX&gt;</c> piece, or -1.</summary>
    internal static int PieceToByte(string piece)
    {
        if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>') return -1;
        int hi = HexUpper(piece[3]), lo = HexUpper(piece[4]);
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    // ByteToPiece prints %02X, so only upper-case digits name a byte piece.
    private static int HexUpper(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
