// Glassbox.Tokenizers.Encoding hides System.Text.Encoding inside this namespace; tests that mean
// the UTF-8 text encoding keep writing `Encoding.UTF8`. (Tests needing the tokenizer result type
// use `var` or `Glassbox.Tokenizers.Encoding`.)

namespace Glassbox.Tokenizers.Tests
{
    internal static class Encoding
    {
        public static System.Text.Encoding UTF8 => System.Text.Encoding.UTF8;
    }
}
