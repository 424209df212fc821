// Element types as safetensors names them. PyTorch storages map onto the same set, so both
// readers share one enum and one set of widening conversions.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Glassbox.Models.Checkpoints;

public enum DType
{
    Bool,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType t) => t switch
    {
        DType.Bool or DType.U8 or DType.I8 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        DType.F64 or DType.I64 or DType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    public static bool IsFloat(this DType t) => t is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>The safetensors spelling ("F32", "BF16", "BOOL", ...).</summary>
    public static string Name(this DType t) => t == DType.Bool ? "BOOL" : t.ToString();

    public static bool TryParse(string s, out DType t)
    {
        switch (s)
        {
            case "BOOL": t = DType.Bool; return true;
            case "U8": t = DType.U8; return true;
            case "I8": t = DType.I8; return true;
            case "I16": t = DType.I16; return true;
            case "U16": t = DType.U16; return true;
            case "F16": t = DType.F16; return true;
            case "BF16": t = DType.BF16; return true;
            case "I32": t = DType.I32; return true;
            case "U32": t = DType.U32; return true;
            case "F32": t = DType.F32; return true;
            case "F64": t = DType.F64; return true;
            case "I64": t = DType.I64; return true;
            case "U64": t = DType.U64; return true;
            default: t = default; return false;
        }
    }

    internal const string KnownNames = "BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64";

    /// <summary>Widens (or, for F64, narrows) little-endian floating elements to float32.</summary>
    internal static void ToFloat32(DType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (t)
        {
            case DType.F32:
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                else for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                break;
            case DType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]));
                break;
            case DType.BF16:
                // bfloat16 is the top half of a float32: widening is exact.
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]) << 16);
                break;
            case DType.F64:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]);
                break;
            default:
                throw new InvalidOperationException($"dtype {t.Name()} is not a floating type.");
        }
    }

    /// <summary>Reads integer (or BOOL) elements as Int64.</summary>
    internal static void ToInt64(DType t, ReadOnlySpan<byte> src, Span<long> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = t switch
            {
                DType.Bool => src[i] != 0 ? 1 : 0,
                DType.U8 => src[i],
                DType.I8 => (sbyte)src[i],
                DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(src[(i * 2)..]),
                DType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]),
                DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]),
                DType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]),
                DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]),
                DType.U64 => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..])),
                _ => throw new InvalidOperationException($"dtype {t.Name()} is not an integer type."),
            };
        }
    }

    /// <summary>float32 → bfloat16 bits with round-to-nearest-even (NaN kept quiet).</summary>
    internal static ushort FloatToBF16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
