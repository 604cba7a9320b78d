using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Xunit.Abstractions;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Every route of <c>/openapi/v1.json</c>, tried with inputs nobody listed: wrong types, out-of-range
/// numbers and dates, huge and odd strings, deep nesting, duplicate keys, wrong or missing
/// <c>Content-Type</c>, each <c>Accept</c>, with and without keys. Whatever arrives, the answer is
/// below 500, a refusal is ProblemDetails whose <c>status</c> is the HTTP status, every answer comes
/// within a bound, and the service is still ready afterwards.
/// </summary>
/// <remarks>
/// <para>
/// CsCheck rather than FsCheck: its generators are plain C# values composed with LINQ (a request is
/// <c>from path … from body … select</c>), and a run is named by one seed string. FsCheck is F#-first
/// and its xunit integration is built around property attributes, which fit a pure function better
/// than a request sequence against one running host.
/// </para>
/// <para>
/// The requests come from one PCG stream, in order, one at a time: the same seed sends the same
/// requests (CsCheck's own <c>Sample</c> fixes only its first iteration by seed and runs the rest on
/// random threads). Instead of re-running to shrink, each distinct failure (route, kind, status,
/// server exception) keeps the smallest request that showed it, with that request's own seed.
/// </para>
/// <para>
/// Knobs: <c>HOSTILE_ITERATIONS</c> (default <see cref="DefaultIterations"/>); <c>HOSTILE_SEED</c>, a
/// number for another run (a PCG stream of its own) or a CsCheck seed string: a failure prints its
/// request's, and <c>HOSTILE_SEED=… HOSTILE_ITERATIONS=1</c> sends just that request again;
/// <c>HOSTILE_SECONDS</c>, to run that long instead of a number of requests when exploring.
/// </para>
/// </remarks>
public sealed class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DefaultIterations = 3000;
    private const int MaxRefusalBytes = 64 * 1024;
    private const int MaxFindings = 60;
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    /// <summary>The run's seed when HOSTILE_SEED is not set.</summary>
    private static readonly PCG DefaultStart = new(stream: 1, seed: 20251202);

    /// <summary>Routes not tried, each with its reason.</summary>
    private static readonly Dictionary<string, string> Excluded = new()
    {
        ["PUT /tavus-sim/control/faults"] = "makes Tavus fail and stall on purpose: the 502s and 504s that follow are the contract",
    };

    /// <summary>Routes tried only with ids that are not the seeded conversations', each with its reason.</summary>
    private static readonly Dictionary<string, string> NoRealIds = new()
    {
        ["DELETE /tavus-sim/v2/conversations/{conversationId}"] =
            "deleting a seeded conversation at Tavus makes the orchestrator's next end of it a 502 (Tavus refusing), as the contract says",
    };

    private readonly LogCapture _logs = new();
    private readonly Dictionary<string, string> _real = [];
    private readonly Dictionary<string, Finding> _findings = [];
    private readonly Dictionary<string, SortedDictionary<int, int>> _statuses = [];
    private OrchestratorFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = new OrchestratorFactory(settings: new()
        {
            // The test explores the surface, not the limiter: far above what it sends.
            ["RateLimits:RequestsPerSecond"] = "10000",
            ["RateLimits:WebhookRefusalsPerMinute"] = "10000",
            ["RateLimits:AuthFailuresPerMinute"] = "10000",
            ["Events:MaxStreamsPerTenant"] = "10000",
            ["Simulator:MaxConcurrentConversations"] = "100000",
            ["Serilog:MinimumLevel:Default"] = "Error",
        });
        _factory.ConfigureServices = services => services.AddSingleton<ILogEventSink>(_logs);
        _client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        await SeedAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>A tenant with a policy, a bystander tenant, conversations in each state, their tokens and a real cursor.</summary>
    private async Task SeedAsync()
    {
        using var admin = _factory.CreateAdminClient();
        async Task<string> CreateTenantAsync(string id, object? policy)
        {
            var response = await admin.PostAsJsonAsync("/admin/tenants", new { id, name = $"Tenant {id}", policy }, Json.Options);
            response.EnsureSuccessStatusCode();
            return (await response.ReadJsonAsync()).Str("api_key");
        }
        _real[Real.TenantId] = "hostile";
        _real[Real.OtherTenantId] = "bystander";
        _real[Real.TenantKey] = await CreateTenantAsync("hostile", new
        {
            max_call_duration = new { @default = 1800, min = 60, max = 3600 },
            participant_left_timeout = new { @default = 60, min = 0, max = 600 },
            participant_absent_timeout = new { @default = 300, min = 0, max = 900 },
            max_concurrent_conversations = 100_000,
            enforcement = "clamp",
        });
        _real[Real.OtherTenantKey] = await CreateTenantAsync("bystander", null);

        using var tenant = _factory.CreateTenantClient(_real[Real.TenantKey]);
        using var bystander = _factory.CreateTenantClient(_real[Real.OtherTenantKey]);
        var ids = new List<string>();
        for (var i = 0; i < Real.Conversations; i++)
        {
            var id = (await (i < 3 ? tenant : bystander).CreateConversationAsync()).Str("conversation_id");
            ids.Add(id);
            _real[Real.Conversation(i)] = id;
            _real[Real.Token(i)] = await _factory.CallbackTokenAsync(id);
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _client.PostFixtureAsync("replica_joined.json", ids[1], _real[Real.Token(1)])).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _client.PostFixtureAsync("shutdown_max_call_duration.json", ids[2], _real[Real.Token(2)])).StatusCode);
        var page = await (await tenant.GetAsync("/conversations?limit=1")).ReadJsonAsync();
        _real[Real.Cursor] = page.Str("next_cursor");
    }

    [Fact]
    public async Task No_input_on_any_route_reaches_a_5xx_a_bare_refusal_or_an_unbounded_answer()
    {
        var document = JsonDocument.Parse(await _client.GetStringAsync("/openapi/v1.json")).RootElement;
        var callbacks = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "callbacks"), "*.json")
            .Order(StringComparer.Ordinal).Select(f => JsonNode.Parse(File.ReadAllText(f))!);
        var operations = ApiOperation.ReadAll(document, new Dictionary<string, IEnumerable<JsonNode>> { ["POST /webhook"] = callbacks })
            .Where(op => !Excluded.ContainsKey(op.Name)).ToList();
        Assert.True(operations.Count >= 15, $"The OpenAPI document lists only {operations.Count} operations.");
        var requests = HostileGen.Requests(operations, op => !NoRealIds.ContainsKey(op.Name));

        var seed = Environment.GetEnvironmentVariable("HOSTILE_SEED") switch
        {
            { Length: > 0 } number when uint.TryParse(number, out var stream) => new PCG(stream, stream).ToString(),
            { Length: > 0 } given => given,
            _ => DefaultStart.ToString(),
        };
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_ITERATIONS"), out var n) ? n : DefaultIterations;
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SECONDS"), out var t) ? t : 0;
        var pcg = PCG.Parse(seed);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (seconds > 0 ? clock.Elapsed.TotalSeconds < seconds : sent < iterations)
        {
            var state = pcg.State;
            var request = requests.Generate(pcg, null, out _);
            await SendAsync(request, pcg.ToString(state));
            sent++;
        }

        await CheckStillReadyAsync();
        output.WriteLine($"{sent:N0} requests in {clock.Elapsed.TotalSeconds:N1} s, seed {seed}.");
        foreach (var (route, reason) in Excluded.Concat(NoRealIds.Select(r => KeyValuePair.Create(r.Key, $"no seeded ids: {r.Value}"))))
        {
            output.WriteLine($"Not tried: {route} ({reason})");
        }
        foreach (var (operation, statuses) in _statuses.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{operation,-70} {string.Join("  ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        }
        if (_findings.Count > 0)
        {
            Assert.Fail(Report(seed, sent));
        }
        // A replay of a few requests need not reach every route; a full run must.
        var untried = operations.Select(op => op.Name).Where(name => !_statuses.ContainsKey(name)).ToList();
        Assert.True(untried.Count == 0 || sent < DefaultIterations / 2, $"Never tried: {string.Join(", ", untried)}; raise HOSTILE_ITERATIONS.");
    }

    private string Resolve(string text)
    {
        foreach (var (standIn, value) in _real)
        {
            text = text.Replace(standIn, value, StringComparison.Ordinal);
        }
        return text;
    }

    private async Task SendAsync(HostileRequest request, string requestSeed)
    {
        var op = request.Operation;
        HttpRequestMessage message;
        try
        {
            message = new HttpRequestMessage(new HttpMethod(op.Method), Resolve(request.Path + request.Query));
        }
        catch (UriFormatException)
        {
            // A URI .NET will not build is not one a client of this service can send.
            Count(op.Name, 0);
            return;
        }
        using var disposeMessage = message;
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, Resolve(value));
        }
        if (request.Body.Text is not null || request.Body.Bytes is not null)
        {
            message.Content = new ByteArrayContent(request.Body.Bytes ?? Encoding.UTF8.GetBytes(Resolve(request.Body.Text!)));
            if (request.Body.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        using var timeout = new CancellationTokenSource(AnswerBound);
        var logged = _logs.Events.Count;
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Record(request, requestSeed, "no answer within the bound", null, logged);
            return;
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("null characters", StringComparison.Ordinal))
        {
            // The test server refuses a %00 in the path before the app sees it, as Kestrel does (400).
            Count(op.Name, 0);
            return;
        }
        catch (Exception ex)
        {
            Record(request, requestSeed, $"the request broke off ({ex.GetType().Name}: {FirstLine(ex.Message)})", null, logged);
            return;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            Count(op.Name, status);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status == 200 && mediaType == "text/event-stream")
            {
                return; // A live stream stays open: its headers are the answer.
            }
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            }
            catch (Exception ex)
            {
                Record(request, requestSeed, timeout.IsCancellationRequested ? "no complete answer within the bound" : $"the answer broke off ({ex.GetType().Name})",
                    new Answer(status, mediaType, [], clock.Elapsed), logged);
                return;
            }
            var answer = new Answer(status, mediaType, body, clock.Elapsed);
            foreach (var problem in Problems(request, answer))
            {
                Record(request, requestSeed, problem, answer, logged);
            }
            if (op.Name == "POST /admin/tenants/{id}/keys" && status == 200)
            {
                KeepRotatedKey(request, answer);
            }
        }
    }

    /// <summary>What is wrong with an answer, if anything.</summary>
    private static IEnumerable<string> Problems(HostileRequest request, Answer answer)
    {
        if (answer.Elapsed > AnswerBound)
        {
            yield return "answered after the bound";
        }
        if (answer.Status >= 500)
        {
            yield return "5xx";
            yield break;
        }
        if (answer.Status < 400)
        {
            yield break;
        }
        if (answer.Body.Length > MaxRefusalBytes)
        {
            yield return $"a refusal over {MaxRefusalBytes / 1024} KiB";
        }
        if (answer.Body.Length == 0)
        {
            // The contract lets an auth failure to a client that accepts no JSON go without a body.
            var accept = request.Headers.Where(h => h.Name == "Accept").Select(h => h.Value).FirstOrDefault();
            if (!(answer.Status is 401 or 403 && !AcceptsJson(accept)))
            {
                yield return "a refusal with an empty body";
            }
            yield break;
        }
        if (ParseJson(answer.Body) is not { } json)
        {
            yield return $"a refusal that is not JSON ({answer.MediaType ?? "no Content-Type"})";
            yield break;
        }
        // The simulator answers like Tavus ({"error": …} or {"message": …}), not with ProblemDetails.
        if (request.Operation.Template.StartsWith("/tavus-sim/", StringComparison.Ordinal) && json.ValueKind == JsonValueKind.Object &&
            (json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ||
             json.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String))
        {
            yield break;
        }
        if (answer.MediaType != "application/problem+json")
        {
            yield return $"a refusal as {answer.MediaType ?? "no Content-Type"}, not application/problem+json";
        }
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("status", out var status) ||
            status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var value) || value != answer.Status)
        {
            yield return "ProblemDetails whose status is not the HTTP status";
        }
    }

    private static JsonElement? ParseJson(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool AcceptsJson(string? accept) =>
        string.IsNullOrEmpty(accept) || accept.Contains("json", StringComparison.OrdinalIgnoreCase) ||
        accept.Contains("*/*", StringComparison.Ordinal) || accept.Contains("application/*", StringComparison.OrdinalIgnoreCase);

    private void KeepRotatedKey(HostileRequest request, Answer answer)
    {
        var key = JsonDocument.Parse(answer.Body).RootElement.Str("api_key");
        if (request.Path.Contains(Real.OtherTenantId, StringComparison.Ordinal))
        {
            _real[Real.OtherTenantKey] = key;
        }
        else if (request.Path.Contains(Real.TenantId, StringComparison.Ordinal))
        {
            _real[Real.TenantKey] = key;
        }
    }

    private async Task CheckStillReadyAsync()
    {
        using var timeout = new CancellationTokenSource(AnswerBound);
        var ready = await _client.GetAsync("/health/ready", timeout.Token);
        if (!ready.IsSuccessStatusCode)
        {
            _findings["/health/ready"] = new Finding("GET /health/ready", $"not ready after the run: {(int)ready.StatusCode}", null, "", null, null);
        }
        // The callbacks the simulator sent, as Tavus would, were answered below 500 too.
        using var simulator = _factory.CreateSimulatorClient();
        for (var i = 0; i < Real.Conversations; i++)
        {
            var deliveries = await simulator.GetFromJsonAsync<JsonElement>($"control/conversations/{_real[Real.Conversation(i)]}/deliveries", timeout.Token);
            foreach (var delivery in deliveries.EnumerateArray())
            {
                if (delivery.GetProperty("status_code") is { ValueKind: JsonValueKind.Number } code && code.GetInt32() >= 500)
                {
                    _findings[$"delivery {i} {delivery.Str("event_type")}"] = new Finding("POST /webhook (the simulator's own callback)",
                        $"{code.GetInt32()} to Tavus' {delivery.Str("event_type")}", null, "", null, null);
                }
            }
        }
    }

    private void Count(string operation, int status)
    {
        var statuses = _statuses.TryGetValue(operation, out var s) ? s : _statuses[operation] = [];
        statuses[status] = statuses.GetValueOrDefault(status) + 1;
    }

    private sealed record Answer(int Status, string? MediaType, byte[] Body, TimeSpan Elapsed);

    private sealed record Finding(string Operation, string Kind, HostileRequest? Request, string Seed, Answer? Answer, string? ServerError)
    {
        public int Count { get; set; } = 1;
    }

    private void Record(HostileRequest request, string seed, string kind, Answer? answer, int loggedBefore)
    {
        // The exception the request died of, else the first one logged while it ran (say, one a handler caught).
        var logged = _logs.Events.Skip(loggedBefore).Where(e => e.Exception is not null).ToList();
        var exception = (logged.FirstOrDefault(e => e.Properties.TryGetValue("SourceContext", out var source) &&
            source.ToString().Contains("ExceptionHandler", StringComparison.Ordinal)) ?? logged.FirstOrDefault())?.Exception;
        var key = $"{request.Operation.Name} | {kind} | {answer?.Status} | {(exception is null ? "" : Signature(exception))}";
        if (_findings.TryGetValue(key, out var known))
        {
            known.Count++;
            if (request.Size < known.Request!.Size)
            {
                _findings[key] = new Finding(known.Operation, kind, request, seed, answer, known.ServerError) { Count = known.Count };
            }
            return;
        }
        if (_findings.Count < MaxFindings)
        {
            _findings[key] = new Finding(request.Operation.Name, kind, request, seed, answer,
                exception is null ? null : $"{exception.GetType().FullName}: {FirstLine(exception.Message)} (at {Signature(exception)})");
        }
    }

    /// <summary>Where an exception comes from: the first frame in this service's code, else the innermost.</summary>
    private static string Signature(Exception exception)
    {
        var frames = new StackTrace(exception).GetFrames();
        var method = frames.Select(f => f.GetMethod()).FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("Tavus.", StringComparison.Ordinal) == true)
            ?? frames.FirstOrDefault()?.GetMethod();
        if (method?.DeclaringType is not { } type)
        {
            return exception.GetType().Name;
        }
        // An async method runs in a compiler-made type named <Method>d__N inside the real one.
        var name = type.Name.StartsWith('<') ? $"{type.DeclaringType?.Name}.{type.Name[1..type.Name.IndexOf('>', StringComparison.Ordinal)]}" : $"{type.Name}.{method.Name}";
        return $"{exception.GetType().Name} in {name}";
    }

    private static string FirstLine(string text) => text.Split('\n')[0].TrimEnd('\r');

    private static string Clip(string text, int length = 300) =>
        text.Length <= length ? text : $"{text[..length]}… ({text.Length:N0} chars)";

    private string Report(string seed, int sent)
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"{_findings.Count} distinct failures in {sent:N0} requests (seed {seed}). Each shows the smallest request that failed that way;");
        report.AppendLine("HOSTILE_SEED=<its seed> HOSTILE_ITERATIONS=1 sends it again. «…» stands for a seeded key, id or token.");
        var number = 0;
        foreach (var finding in _findings.Values.OrderBy(f => f.Operation, StringComparer.Ordinal).ThenBy(f => f.Kind, StringComparer.Ordinal))
        {
            report.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"{++number}. {finding.Operation}: {finding.Kind}{(finding.Answer is { } a ? $" ({a.Status})" : "")}, {finding.Count}×");
            if (finding.ServerError is { } error)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"   server: {error}");
            }
            if (finding.Request is not { } request)
            {
                continue;
            }
            report.AppendLine(CultureInfo.InvariantCulture, $"   inputs: {string.Join(" | ", request.Inputs)}");
            report.AppendLine(CultureInfo.InvariantCulture, $"   request: {request.Operation.Method} {Clip(request.Path + request.Query, 200)}   (seed {finding.Seed})");
            foreach (var (name, value) in request.Headers)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"   {name}: {Clip(value, 80)}");
            }
            if (request.Body.Text is not null || request.Body.Bytes is not null)
            {
                var text = request.Body.Text ?? Convert.ToHexString(request.Body.Bytes!);
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"   Content-Type: {request.Body.ContentType ?? "none"}; body ({request.Body.Length:N0} {(request.Body.Text is null ? "bytes" : "chars")}): {Clip(text)}");
            }
            if (finding.Answer is { } answer)
            {
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"   answer: {answer.Status} {answer.MediaType ?? "no Content-Type"} in {answer.Elapsed.TotalMilliseconds:N0} ms, {answer.Body.Length:N0} bytes: {Clip(Encoding.UTF8.GetString(answer.Body))}");
            }
        }
        return report.ToString();
    }
}
