// Glassbox.Tokenizers.Encoding (the public encoding result) hides System.Text.Encoding for code in
// child namespaces. The SentencePiece loader was written against System.Text.Encoding.UTF8; this
// forwarder keeps `Encoding.UTF8` meaning the UTF-8 text encoding there.

namespace Glassbox.Tokenizers.SentencePiece
{
    internal static class Encoding
    {
        public static System.Text.Encoding UTF8 => System.Text.Encoding.UTF8;
    }
}
