// `glassbox serve` and `glassbox demo` (web-app mode): bad input is exit 2 naming the option, and a
// started server prints its URL and answers the API until cancelled.
using System.Text.Json;
using Glassbox.Server;

namespace Glassbox.Cli.Tests;

public sealed class ServeCommandTests
{
    private static string Model(string name) => Path.Combine(CliTestSupport.SharedDir, "models", name);

    [Fact]
    public void Bad_serve_arguments_are_exit_2_naming_the_option()
    {
        var (code, _, err) = CliTestSupport.Run("serve", "--model", "m=/no/such/model");
        Assert.Equal(2, code);
        Assert.Contains("--model m=/no/such/model", err);
        (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny"), "--data", "d=/no/such/data.tsv");
        Assert.Equal(2, code);
        Assert.Contains("--data d=/no/such/data.tsv", err);
        (code, _, err) = CliTestSupport.Run("serve", "--model", "m=" + Model("distilbert-sst2-tiny"), "--port", "70000");
        Assert.Equal(2, code);
        Assert.Contains("--port", err);
        (code, _, err) = CliTestSupport.Run("serve", "--model", "=x");
        Assert.Equal(2, code);
        Assert.Contains("NAME=VALUE", err);
        (code, _, err) = CliTestSupport.Run("serve");
        Assert.Equal(2, code);
        Assert.Contains("--model", err);
    }

    [Fact]
    public void Demo_without_report_serves_and_refuses_a_missing_model()
    {
        var (code, _, err) = CliTestSupport.Run("demo", "--no-open", "--model", "/no/such/classifier", "--lm-model", Model("gpt2-shakespeare-tiny"));
        Assert.Equal(2, code);
        Assert.Contains("/no/such/classifier", err);
    }

    [Fact]
    public async Task Serve_prints_the_url_and_answers_until_cancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string? info = null;
        var options = new ServerOptions { Port = 0, Models = [new("sst2", Model("distilbert-sst2-tiny"))], Datasets = [new("dev", Path.Combine(CliTestSupport.SharedDir, "data", "sst2", "dev.tsv"))] };
        int code = await Task.Run(() => ServeCommand.Serve(options, stdout, stderr, cts.Token, url =>
        {
            using var http = new HttpClient { BaseAddress = url };
            info = http.GetStringAsync("/api/info").GetAwaiter().GetResult();
            cts.Cancel();
        }));
        Assert.Equal(0, code);
        Assert.Matches(@"Glassbox is serving at http://127\.0\.0\.1:\d+/", stdout.ToString());
        Assert.Equal("", stderr.ToString()); // loopback: no warning
        using var doc = JsonDocument.Parse(info!);
        Assert.Equal("sst2", doc.RootElement.GetProperty("models")[0].GetProperty("name").GetString());
        Assert.Equal(872, doc.RootElement.GetProperty("datasets")[0].GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task Demo_serves_the_classifier_the_lm_and_the_demo_dataset()
    {
        string? classifier = EmbeddedModels.Find(EmbeddedModels.Classifier) ?? Model("distilbert-sst2-tiny");
        string? lm = EmbeddedModels.Find(EmbeddedModels.LanguageModel) ?? Model("gpt2-shakespeare-tiny");
        string data = EmbeddedModels.Find(EmbeddedModels.DemoDataset)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = new StringWriter();
        string? info = null;
        int code = await Task.Run(() => DemoServe.Run(classifier, lm, data, stdout, new StringWriter(), url =>
        {
            using var http = new HttpClient { BaseAddress = url };
            info = http.GetStringAsync("/api/info").GetAwaiter().GetResult();
            cts.Cancel();
        }, cts.Token));
        Assert.Equal(0, code);
        Assert.Contains("Glassbox is serving at http://127.0.0.1:", stdout.ToString());
        using var doc = JsonDocument.Parse(info!);
        Assert.Equal(["sst2", "shakespeare"], doc.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Equal("text-generation", doc.RootElement.GetProperty("models")[1].GetProperty("task").GetString());
        Assert.Equal("demo", doc.RootElement.GetProperty("datasets")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Non_loopback_host_warns()
    {
        // The warning comes first; the missing model then stops the command before anything listens.
        var stderr = new StringWriter();
        int code = ServeCommand.Serve(new ServerOptions { Host = "0.0.0.0", Port = 0, Models = [new("m", "/no/such/model")] },
            new StringWriter(), stderr, CancellationToken.None);
        Assert.Contains("warning: --host 0.0.0.0 makes the server reachable from other machines", stderr.ToString());
        Assert.Equal(2, code);
    }
}
