// A pickle reader for PyTorch state dicts that can only *describe* data, never run it. Python's
// unpickler imports any named global and calls it; this one knows a fixed list of globals
// (OrderedDict, torch's tensor-rebuild helpers, the typed storage classes) and interprets them
// itself — `_rebuild_tensor_v2(...)` becomes a TensorRef record, a storage becomes a StorageRef.
// Any other global (os.system, builtins.eval, subprocess.Popen, ...) is refused by name the
// moment the GLOBAL opcode is read, before anything could use it. Opcodes that build arbitrary
// objects (INST, OBJ, NEWOBJ, EXT*) are refused too. All reads are bounds-checked, and the
// stack and memo are capped, so a hostile pickle can only produce an exception.
using System.Buffers.Binary;
using System.Text;

namespace Glassbox.Models.Checkpoints;

internal sealed class PyNone
{
    public static readonly PyNone Instance = new();
    public override string ToString() => "None";
}

internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

internal sealed class PyTuple(object[] items)
{
    public object[] Items { get; } = items;
}

internal sealed class PyDict
{
    public List<KeyValuePair<object, object>> Items { get; } = [];
    public object? State { get; set; }
}

internal sealed record StorageRef(DType DType, string Key, string Location, long NumElements);

internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

internal sealed class RestrictedUnpickler
{
    private const int MaxStack = 1 << 20;
    private const int MaxMemo = 1 << 20;

    private static readonly object Mark = new();

    internal static readonly Dictionary<string, DType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = DType.F32,
        ["DoubleStorage"] = DType.F64,
        ["HalfStorage"] = DType.F16,
        ["BFloat16Storage"] = DType.BF16,
        ["LongStorage"] = DType.I64,
        ["IntStorage"] = DType.I32,
        ["ShortStorage"] = DType.I16,
        ["CharStorage"] = DType.I8,
        ["ByteStorage"] = DType.U8,
        ["BoolStorage"] = DType.Bool,
    };

    private static readonly HashSet<string> AllowedCallables = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
    };

    private readonly string _file;
    private readonly byte[] _data;
    private int _pos;
    private readonly List<object> _stack = [];
    private readonly Dictionary<long, object> _memo = [];

    private RestrictedUnpickler(string file, byte[] data)
    {
        _file = file;
        _data = data;
    }

    public static object Load(string fileForErrors, byte[] data) => new RestrictedUnpickler(fileForErrors, data).Run();

    private CheckpointFormatException Bad(string problem) => new(_file, $"pickle at byte {_pos}: {problem}");

    private object Run()
    {
        while (true)
        {
            int opPos = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    {
                        byte proto = ReadByte();
                        if (proto > 5) throw Bad($"unsupported pickle protocol {proto}");
                        break;
                    }
                case 0x95: // FRAME: an 8-byte length we do not need (the data is already in memory)
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    if (_stack.Count != 1) throw Bad($"STOP with {_stack.Count} items on the stack (expected 1)");
                    return Pop();
                case (byte)'(': Push(Mark); break;
                case (byte)')': Push(new PyTuple([])); break;
                case (byte)'}': Push(new PyDict()); break;
                case (byte)']': Push(new List<object>()); break;
                case (byte)'N': Push(PyNone.Instance); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: // LONG1: little-endian two's complement, n bytes
                    {
                        int n = ReadByte();
                        if (n > 8) throw Bad($"LONG1 of {n} bytes is larger than a state dict ever needs");
                        var b = Take(n);
                        long v = 0;
                        for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
                        if (n is > 0 and < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n);
                        Push(v);
                        break;
                    }
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(ReadString(ReadLength32())); break;
                case 0x8c: Push(ReadString(ReadByte())); break;
                case 0x8d: Push(ReadString(ReadLength64())); break;
                case (byte)'T': Push(ReadString(ReadLength32())); break; // BINSTRING (py2 str), read as text
                case (byte)'U': Push(ReadString(ReadByte())); break;                    // SHORT_BINSTRING
                case (byte)'B': Push(Take(ReadLength32()).ToArray()); break;
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break;
                case 0x8e: Push(Take(ReadLength64()).ToArray()); break;
                case (byte)'q': Memo(ReadByte()); break;
                case (byte)'r': Memo(ReadLength32()); break;
                case 0x94: Memo(_memo.Count); break; // MEMOIZE
                case (byte)'h': Push(Recall(ReadByte())); break;
                case (byte)'j': Push(Recall(ReadLength32())); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopToMark(); break;
                case (byte)'2': Push(Peek()); break;
                case (byte)'t': Push(new PyTuple(PopToMark().ToArray())); break;
                case 0x85: { var a = Pop(); Push(new PyTuple([a])); break; }
                case 0x86: { var b = Pop(); var a = Pop(); Push(new PyTuple([a, b])); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PyTuple([a, b, c])); break; }
                case (byte)'l': Push(PopToMark()); break;
                case (byte)'d':
                    {
                        var items = PopToMark();
                        var d = new PyDict();
                        AddPairs(d, items);
                        Push(d);
                        break;
                    }
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case (byte)'e': { var items = PopToMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'s':
                    {
                        var v = Pop();
                        var k = Pop();
                        AddPairs(AsDict(Peek(), "SETITEM"), [k, v]);
                        break;
                    }
                case (byte)'u':
                    {
                        var items = PopToMark();
                        AddPairs(AsDict(Peek(), "SETITEMS"), items);
                        break;
                    }
                case (byte)'c': // GLOBAL "module\nname\n"
                    {
                        string module = ReadLine();
                        string name = ReadLine();
                        Push(ResolveGlobal(module, name));
                        break;
                    }
                case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop();
                        var module = Pop();
                        if (module is not string m || name is not string n) throw Bad("STACK_GLOBAL operands are not strings");
                        Push(ResolveGlobal(m, n));
                        break;
                    }
                case (byte)'Q': Push(PersistentLoad(Pop())); break;
                case (byte)'R':
                    {
                        var args = Pop();
                        var callable = Pop();
                        Push(Reduce(callable, args));
                        break;
                    }
                case (byte)'b': // BUILD
                    {
                        var state = Pop();
                        var target = Peek();
                        if (target is PyDict d && state is PyDict or PyNone) d.State = state; // e.g. the state dict's _metadata
                        else throw Bad($"BUILD on {Describe(target)} is not allowed in a state dict");
                        break;
                    }
                default:
                    _pos = opPos;
                    throw Bad($"opcode 0x{op:X2}{OpName(op)} is not allowed (only the opcodes torch.save uses for state dicts are supported)");
            }
        }
    }

    private object ResolveGlobal(string module, string name)
    {
        string full = $"{module}.{name}";
        if (AllowedCallables.Contains(full)) return new PyGlobal(module, name);
        if (module == "torch" && StorageTypes.ContainsKey(name)) return new PyGlobal(module, name);
        throw Bad($"refusing global '{full}': only collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage may appear in a checkpoint (nothing from the file is executed)");
    }

    private object Reduce(object callable, object args)
    {
        if (callable is not PyGlobal g) throw Bad($"REDUCE on {Describe(callable)} is not allowed");
        if (args is not PyTuple t) throw Bad($"REDUCE arguments for {g} are {Describe(args)}, not a tuple");
        var a = t.Items;
        switch (g.ToString())
        {
            case "collections.OrderedDict":
                if (a.Length != 0) throw Bad("OrderedDict(...) with arguments is not supported");
                return new PyDict();
            case "torch._utils._rebuild_tensor_v2":
                {
                    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                    if (a.Length is < 6 or > 7) throw Bad($"_rebuild_tensor_v2 takes 6 or 7 arguments, got {a.Length}");
                    if (a[0] is not StorageRef s) throw Bad($"_rebuild_tensor_v2: first argument is {Describe(a[0])}, not a storage");
                    if (a[1] is not long offset || offset < 0) throw Bad("_rebuild_tensor_v2: storage offset is not a non-negative integer");
                    var size = LongTuple(a[2], "size");
                    var stride = LongTuple(a[3], "stride");
                    if (size.Length != stride.Length) throw Bad($"_rebuild_tensor_v2: size has {size.Length} dimensions but stride has {stride.Length}");
                    if (a[5] is not PyDict hooks || hooks.Items.Count != 0) throw Bad("_rebuild_tensor_v2: backward hooks must be an empty OrderedDict");
                    return new TensorRef(s, offset, size, stride);
                }
            case "torch._utils._rebuild_parameter":
                {
                    // (data, requires_grad, backward_hooks): a Parameter is just its tensor for reading.
                    if (a.Length != 3 || a[0] is not TensorRef tr) throw Bad("_rebuild_parameter: expected (tensor, requires_grad, backward_hooks)");
                    return tr;
                }
            default:
                throw Bad($"calling {g} is not allowed");
        }
    }

    private long[] LongTuple(object o, string what)
    {
        if (o is not PyTuple t) throw Bad($"_rebuild_tensor_v2: {what} is {Describe(o)}, not a tuple");
        if (t.Items.Length > 64) throw Bad($"_rebuild_tensor_v2: {what} has {t.Items.Length} dimensions");
        var r = new long[t.Items.Length];
        for (int i = 0; i < r.Length; i++)
        {
            if (t.Items[i] is not long v || v < 0) throw Bad($"_rebuild_tensor_v2: {what}[{i}] is not a non-negative integer");
            r[i] = v;
        }
        return r;
    }

    private StorageRef PersistentLoad(object pid)
    {
        // torch.save writes ('storage', <StorageType>, key, location, numel).
        if (pid is not PyTuple t || t.Items.Length != 5 || t.Items[0] is not "storage")
            throw Bad($"persistent id {Describe(pid)} is not a ('storage', type, key, location, numel) tuple");
        if (t.Items[1] is not PyGlobal g || g.Module != "torch" || !StorageTypes.TryGetValue(g.Name, out var dtype))
            throw Bad($"persistent id names {Describe(t.Items[1])}, not a torch storage type");
        if (t.Items[2] is not string key || key.Length == 0 || key.Length > 64 || !key.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            throw Bad("persistent id storage key is not a plain name");
        if (t.Items[3] is not string location) throw Bad("persistent id location is not a string");
        if (t.Items[4] is not long numel || numel < 0) throw Bad("persistent id element count is not a non-negative integer");
        return new StorageRef(dtype, key, location, numel);
    }

    private void AddPairs(PyDict d, List<object> items)
    {
        if (items.Count % 2 != 0) throw Bad("odd number of items for a dict");
        for (int i = 0; i < items.Count; i += 2)
        {
            var k = items[i];
            if (k is not (string or long or bool)) throw Bad($"dict key {Describe(k)} is not a string or integer");
            d.Items.Add(new KeyValuePair<object, object>(k, items[i + 1]));
        }
    }

    private PyDict AsDict(object o, string op) => o as PyDict ?? throw Bad($"{op} on {Describe(o)}, not a dict");

    private List<object> AsList(object o) => o as List<object> ?? throw Bad($"APPEND on {Describe(o)}, not a list");

    private static string Describe(object o) => o switch
    {
        string s => $"'{(s.Length > 40 ? s[..40] + "…" : s)}'",
        PyGlobal g => g.ToString(),
        PyTuple t => $"a {t.Items.Length}-tuple",
        PyDict => "a dict",
        List<object> => "a list",
        TensorRef => "a tensor",
        StorageRef => "a storage",
        _ when ReferenceEquals(o, Mark) => "a MARK",
        _ => o.GetType().Name,
    };

    // ---- stack and memo -------------------------------------------------------------------

    private void Push(object o)
    {
        if (_stack.Count >= MaxStack) throw Bad("stack too deep");
        _stack.Add(o);
    }

    private object Pop()
    {
        if (_stack.Count == 0) throw Bad("stack underflow");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        if (ReferenceEquals(o, Mark)) throw Bad("unexpected MARK on the stack");
        return o;
    }

    private object Peek()
    {
        if (_stack.Count == 0) throw Bad("stack underflow");
        var o = _stack[^1];
        if (ReferenceEquals(o, Mark)) throw Bad("unexpected MARK on the stack");
        return o;
    }

    private List<object> PopToMark()
    {
        int i = _stack.Count - 1;
        while (i >= 0 && !ReferenceEquals(_stack[i], Mark)) i--;
        if (i < 0) throw Bad("no MARK on the stack");
        var items = _stack.GetRange(i + 1, _stack.Count - i - 1);
        _stack.RemoveRange(i, _stack.Count - i);
        return items;
    }

    private void Memo(long index)
    {
        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index)) throw Bad("memo too large");
        _memo[index] = Peek();
    }

    private object Recall(long index) => _memo.TryGetValue(index, out var o) ? o : throw Bad($"memo index {index} was never stored");

    // ---- raw reads --------------------------------------------------------------------------

    private byte ReadByte()
    {
        if (_pos >= _data.Length) throw Bad("pickle ends without STOP (truncated)");
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Bad($"needs {n} more bytes but only {_data.Length - _pos} remain (truncated)");
        var s = new ReadOnlySpan<byte>(_data, _pos, (int)n);
        _pos += (int)n;
        return s;
    }

    private long ReadLength32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    private int ReadLength64()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (n > (ulong)(_data.Length - _pos)) throw Bad($"length {n} runs past the end of the pickle");
        return (int)n;
    }

    private string ReadString(long n)
    {
        var bytes = Take(n);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Bad("string is not valid UTF-8");
        }
    }

    private string ReadLine()
    {
        int start = _pos;
        int nl = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(256, _data.Length - _pos));
        if (nl < 0) throw Bad("GLOBAL name is not newline-terminated within 256 bytes");
        _pos = nl + 1;
        return Encoding.ASCII.GetString(_data, start, nl - start);
    }

    private static string OpName(byte op) => op switch
    {
        (byte)'i' => " (INST)",
        (byte)'o' => " (OBJ)",
        0x81 => " (NEWOBJ)",
        0x92 => " (NEWOBJ_EX)",
        0x82 or 0x83 or 0x84 => " (EXT)",
        (byte)'P' => " (PERSID)",
        (byte)'S' => " (STRING)",
        (byte)'V' => " (UNICODE)",
        (byte)'I' => " (INT)",
        (byte)'L' => " (LONG)",
        (byte)'F' => " (FLOAT)",
        (byte)'p' => " (PUT)",
        (byte)'g' => " (GET)",
        0x8b => " (LONG4)",
        0x8f => " (EMPTY_SET)",
        0x90 => " (ADDITEMS)",
        0x91 => " (FROZENSET)",
        0x96 => " (BYTEARRAY8)",
        0x97 => " (NEXT_BUFFER)",
        0x98 => " (READONLY_BUFFER)",
        _ => "",
    };
}
