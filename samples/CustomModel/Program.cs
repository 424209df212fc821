// The whole launcher: register the model and the dataset, run the app.
//   dotnet run --project samples/CustomModel [-- REVIEWS_FILE] [--port N]
using CustomModel;
using Glassbox.Server;

string data = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine(AppContext.BaseDirectory, "reviews.txt");
int port = args.SkipWhile(a => a != "--port").Skip(1).Select(int.Parse).FirstOrDefault(5433);

await GlassboxApp.Create()
    .AddModel("lexicon", new LexiconSentiment())
    .AddDataset("reviews", Reviews.Load(data))
    .UsePort(port)
    .RunAsync();
