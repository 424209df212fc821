// The whole launcher: register the model and the dataset, run the app.
//   dotnet run --project samples/CustomModel [-- REVIEWS_FILE] [--port N]
using CustomModel;
using Glassbox.Server;

string data = Path.Combine(AppContext.BaseDirectory, "reviews.txt");
int port = 5433;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[i + 1], out port)) i++;
    else if (!args[i].StartsWith("--", StringComparison.Ordinal)) data = args[i];
    else { Console.Error.WriteLine($"unknown option '{args[i]}'; usage: CustomModel [REVIEWS_FILE] [--port N]"); return 2; }
}
if (!File.Exists(data)) { Console.Error.WriteLine($"reviews file '{data}' not found; pass a file of '+ text' / '- text' lines."); return 2; }

await GlassboxApp.Create()
    .AddModel("lexicon", new LexiconSentiment())
    .AddDataset("reviews", Reviews.Load(data))
    .UsePort(port)
    .RunAsync();
return 0;
