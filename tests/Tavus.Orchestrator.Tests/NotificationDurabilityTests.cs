using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.EntityFrameworkCore;
using StandardWebhooks;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Kills the real orchestrator (SIGKILL) after a callback's 200 and before its notification was
/// sent, then restarts it on the same database: the notification is sent, signed.
/// </summary>
public sealed class NotificationDurabilityTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private Process? _process;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_notification_acknowledged_before_a_kill_is_sent_after_the_restart()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        // The dispatcher sends at once: the receiver refuses the first attempt, so the message is
        // still owed (its retry scheduled in about 5 s) when the process is killed.
        receiver.Status["/acme"] = 503;
        _process = Start(baseUrl);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
        await WaitUntilReadyAsync(http);

        var admin = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants") { Content = JsonContent.Create(new { id = "acme", name = "Acme" }) };
        admin.Headers.Add("X-Admin-Key", "kill-admin");
        var apiKey = (await (await http.SendAsync(admin)).ReadJsonAsync()).Str("api_key");
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        var set = await http.PutAsJsonAsync("/tenant/notifications", new { url = receiver.Url("/acme"), event_types = new[] { NotificationTypes.Ended } });
        var secret = (await set.ReadJsonAsync()).Str("secret");
        var conversationId = (await (await http.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options)).ReadJsonAsync()).Str("conversation_id");
        var atTavus = new HttpRequestMessage(HttpMethod.Get, $"/tavus-sim/v2/conversations/{conversationId}");
        atTavus.Headers.Add("x-api-key", "sim-key");
        var token = HttpUtility.ParseQueryString(new Uri((await (await http.SendAsync(atTavus)).ReadJsonAsync()).Str("callback_url")).Query)["token"]!;

        var body = JsonNode.Parse(Json.Fixture("shutdown_max_call_duration.json"))!.AsObject();
        body["conversation_id"] = conversationId;
        var ack = await http.PostAsync($"/webhook?token={token}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal("recorded", (await ack.ReadJsonAsync()).Str("status"));
        await Eventually.TrueAsync(async () =>
        {
            await using var db = _database.CreateContext();
            return await db.NotificationMessages.AnyAsync(m => m.EventType == NotificationTypes.Ended && m.Status == MessageStatus.Pending && m.AttemptCount == 1);
        }, "the first attempt refused and recorded");
        await StopAsync();
        receiver.Status["/acme"] = 200;

        _process = Start(baseUrl);
        await Eventually.TrueAsync(() => receiver.At("/acme").Count >= 2, "the ended notification after the restart", seconds: 60);
        var received = receiver.At("/acme");
        Assert.Equal(2, received.Count);
        Assert.Equal(received[0].Id, received[1].Id);
        Assert.Equal(NotificationTypes.Ended, received[1].Type);
        new StandardWebhook(secret).Verify(received[1].Body, received[1].HeaderDictionary());
    }

    private async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    private Process Start(string baseUrl)
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
        start.Environment["Database__Provider"] = _database.Provider;
        start.Environment["ConnectionStrings__Orchestrator"] = _database.ConnectionString;
        start.Environment["Webhooks__PublicBaseUrl"] = baseUrl;
        start.Environment["Tavus__ApiKey"] = "";
        start.Environment["Admin__ApiKey"] = "kill-admin";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
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
