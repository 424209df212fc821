// A dataset in a format of its own: one review per line, "+" or "-" then the text; blank lines and
// lines starting with '#' are skipped. It declares its fields (an id, the text, a gold label among
// negative/positive), which is all Glassbox needs to show it beside any model that reads text.
using Glassbox.Explain.Extensions;

namespace CustomModel;

public static class Reviews
{
    public static TextDataset Load(string path)
    {
        var spec = new Dictionary<string, FieldType>
        {
            ["id"] = new(FieldType.IdType),
            ["text"] = FieldType.TextSegment(),
            ["label"] = FieldType.CategoryLabel(["negative", "positive"]),
        };
        var examples = new List<FieldValues>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || line[0] == '#') continue;
            string label = line[0] switch
            {
                '+' => "positive",
                '-' => "negative",
                _ => throw new FormatException($"{path}:{number}: a review line starts with '+' or '-', not '{line[0]}'."),
            };
            examples.Add(new FieldValues { ["id"] = $"r{number}", ["text"] = line[1..].Trim(), ["label"] = label });
        }
        return new TextDataset(spec, examples);
    }
}
