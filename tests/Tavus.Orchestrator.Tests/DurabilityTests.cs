using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Web;
using Microsoft.EntityFrameworkCore;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Kills the real orchestrator process (SIGKILL, no graceful stop) while callbacks are being
/// acknowledged, then proves every acknowledged callback is in the SQLite file.
/// </summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private Process? _process;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Every_acknowledged_callback_survives_a_kill_of_the_process()
    {
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        _process = StartOrchestrator(baseUrl, _database);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
        await WaitUntilReadyAsync(http);

        var admin = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { id = "acme", name = "Acme" }) };
        admin.Headers.Add("X-Admin-Key", "kill-admin");
        var apiKey = (await (await http.SendAsync(admin)).ReadJsonAsync()).Str("api_key");
        var create = new HttpRequestMessage(HttpMethod.Post, "/conversations") { Content = JsonContent.Create(Scenario.CreateBody(), options: Json.Options) };
        create.Headers.Add("X-Api-Key", apiKey);
        var conversationId = (await (await http.SendAsync(create)).ReadJsonAsync()).Str("conversation_id");
        var atTavus = new HttpRequestMessage(HttpMethod.Get, $"/tavus-sim/v2/conversations/{conversationId}");
        atTavus.Headers.Add("x-api-key", "sim-key");
        var callbackUrl = new Uri((await (await http.SendAsync(atTavus)).ReadJsonAsync()).Str("callback_url"));
        var token = HttpUtility.ParseQueryString(callbackUrl.Query)["token"]!;

        var acknowledged = new ConcurrentBag<long>();
        var next = 0L;
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var seq = Interlocked.Increment(ref next);
                var body = $$"""{"message_type": "conversation", "event_type": "conversation.utterance", "seq": {{seq}}, "conversation_id": "{{conversationId}}", "timestamp": 1752218165.123, "properties": {"text": "utterance {{seq}}"} }""";
                try
                {
                    using var response = await http.PostAsync($"/webhook?token={token}", new StringContent(body, Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.OK && (await response.ReadJsonAsync()).Str("status") == "recorded")
                    {
                        acknowledged.Add(seq);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException
                    or System.Net.Sockets.SocketException)
                {
                    // The process is gone: what was not acknowledged may or may not be stored. (A kill
                    // during a connect can surface as a bare SocketException from the handler.)
                }
            }
        })).ToList();

        await Eventually.TrueAsync(() => acknowledged.Count >= 300, "300 acknowledged callbacks", seconds: 60);
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        HashSet<long> stored;
        await using (var db = _database.CreateContext())
        {
            stored = [.. await db.ConversationEvents.Where(e => e.Seq != null).Select(e => e.Seq!.Value).ToListAsync()];
        }
        var lost = acknowledged.Where(seq => !stored.Contains(seq)).ToList();
        Assert.True(acknowledged.Count >= 300);
        Assert.Empty(lost);
    }

    private Process StartOrchestrator(string baseUrl, TestDatabase database)
    {
        var assembly = typeof(Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Urls"] = baseUrl;
        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["Database__Provider"] = database.Provider;
        start.Environment["ConnectionStrings__Orchestrator"] = database.ConnectionString;
        start.Environment["Webhooks__PublicBaseUrl"] = baseUrl;
        start.Environment["Tavus__ApiKey"] = "";
        start.Environment["Admin__ApiKey"] = "kill-admin";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        // A WAL checkpoint every few commits, so the kill also lands among background checkpoints
        // and the WAL starting over, not only among commits.
        start.Environment["Events__CheckpointBytes"] = "65536";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process!.HasExited, "the orchestrator process exited at start");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail("the orchestrator process did not become ready");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
