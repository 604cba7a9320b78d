// Usage: StreamLoad STREAMS_URL WEBHOOK_URL TENANT_KEY CONVERSATIONS_FILE STREAMS ROUNDS PIDS
//   STREAMS_URL   the instance the streams are opened on (B)
//   WEBHOOK_URL   the instance the callbacks are posted to (A; the same as B on one instance)
//   CONVERSATIONS_FILE  lines "conversation_id token"; stream i watches conversation i mod count
//   PIDS          comma-separated server pids whose CPU and RSS are measured (the first is B)
// Prints key=value lines: what bench/streams.sh puts in its summary.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

var inv = CultureInfo.InvariantCulture;
var streamsUrl = args[0];
var webhookUrl = args[1];
var tenantKey = args[2];
var conversations = File.ReadAllLines(args[3]).Where(l => l.Length > 0).Select(l => l.Split(' ')).Select(p => (Id: p[0], Token: p[1])).ToArray();
var count = int.Parse(args[4], inv);
var rounds = int.Parse(args[5], inv);
var pids = args[6].Split(',').Select(p => int.Parse(p, inv)).ToArray();

using var http = new HttpClient(new SocketsHttpHandler
{
    MaxConnectionsPerServer = int.MaxValue,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
})
{ Timeout = Timeout.InfiniteTimeSpan };
var received = new long[count, rounds];
var opened = 0;
var failed = 0;
using var stop = new CancellationTokenSource();

var settle = TimeSpan.FromSeconds(int.Parse(Environment.GetEnvironmentVariable("SETTLE_SECONDS") ?? "20", inv));

// Warm-up: the code paths of a stream compiled before anything is measured.
using (var warmup = new CancellationTokenSource())
{
    var warming = Enumerable.Range(0, Math.Min(100, count)).Select(i => WarmUpAsync(i, warmup.Token)).ToList();
    await Task.Delay(TimeSpan.FromSeconds(3));
    await warmup.CancelAsync();
    await Task.WhenAll(warming);
}
await Task.Delay(settle);
var baseBefore = pids.Select(CpuSeconds).ToArray();
await Task.Delay(TimeSpan.FromSeconds(10));
for (var p = 0; p < pids.Length; p++)
{
    Report($"idle_cpu_base_s_{p}", (CpuSeconds(pids[p]) - baseBefore[p]).ToString("0.000", inv));
}
Report("rss_before_kb", RssKb(pids[0]));
var openWatch = Stopwatch.StartNew();
var streams = new List<Task>();
using (var gate = new SemaphoreSlim(64))
{
    for (var i = 0; i < count; i++)
    {
        await gate.WaitAsync();
        var index = i;
        streams.Add(Task.Run(async () =>
        {
            try
            {
                await ReadStreamAsync(index, gate);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref failed);
                await Console.Error.WriteLineAsync($"stream {index}: {ex.GetType().Name}: {ex.Message}");
                gate.Release();
            }
        }));
    }
    while (Volatile.Read(ref opened) + Volatile.Read(ref failed) < count)
    {
        await Task.Delay(50);
    }
}
Report("streams_open", opened);
Report("streams_failed", failed);
Report("open_seconds", openWatch.Elapsed.TotalSeconds.ToString("0.0", inv));

// Past the streams' first heartbeats and the runtime's recompiling of what opening them ran.
await Task.Delay(settle);
Report("rss_streams_kb", RssKb(pids[0]));
var cpuBefore = pids.Select(CpuSeconds).ToArray();
await Task.Delay(TimeSpan.FromSeconds(10));
var cpuAfter = pids.Select(CpuSeconds).ToArray();
for (var p = 0; p < pids.Length; p++)
{
    Report($"idle_cpu_s_{p}", (cpuAfter[p] - cpuBefore[p]).ToString("0.000", inv));
}
var rssAfter = RssKb(pids[0]);
Report("rss_idle_kb", rssAfter);

// Fan-out: each round posts one callback to every conversation at once; a stream's latency is
// from its conversation's post to the event's arrival.
var sent = new long[conversations.Length, rounds];
using (var webhook = new HttpClient { BaseAddress = new Uri(webhookUrl) })
{
    for (var r = 0; r < rounds; r++)
    {
        var round = r;
        await Task.WhenAll(conversations.Select(async (c, ci) =>
        {
            var timestamp = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", inv);
            var body = "{\"message_type\":\"conversation\",\"event_type\":\"conversation.utterance\",\"seq\":" +
                (1_000_000 + round).ToString(inv) + ",\"conversation_id\":\"" + c.Id + "\",\"timestamp\":" + timestamp +
                ",\"properties\":{\"role\":\"user\",\"content\":\"bench\",\"bench_round\":" + round.ToString(inv) + "}}";
            sent[ci, round] = Stopwatch.GetTimestamp();
            using var response = await webhook.PostAsync($"/webhook?token={Uri.EscapeDataString(c.Token)}",
                new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
        }));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && Enumerable.Range(0, count).Any(s => Volatile.Read(ref received[s, round]) == 0))
        {
            await Task.Delay(10);
        }
        await Task.Delay(500);
    }
}
var latencies = new List<double>();
var missing = 0;
for (var s = 0; s < count; s++)
{
    for (var r = 0; r < rounds; r++)
    {
        if (received[s, r] == 0)
        {
            missing++;
            continue;
        }
        latencies.Add(Stopwatch.GetElapsedTime(sent[s % conversations.Length, r], received[s, r]).TotalMilliseconds);
    }
}
latencies.Sort();
Report("latency_samples", latencies.Count);
Report("latency_missing", missing);
Report("latency_p50_ms", Percentile(0.50));
Report("latency_p99_ms", Percentile(0.99));
Report("latency_max_ms", Percentile(1.0));
await stop.CancelAsync();
return;

async Task ReadStreamAsync(int index, SemaphoreSlim gate)
{
    var conversation = conversations[index % conversations.Length];
    using var request = new HttpRequestMessage(HttpMethod.Get, $"{streamsUrl}/conversations/{conversation.Id}/events");
    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
    request.Headers.Add("X-Api-Key", tenantKey);
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
    response.EnsureSuccessStatusCode();
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
    Interlocked.Increment(ref opened);
    gate.Release();
    while (await reader.ReadLineAsync(stop.Token) is { } line)
    {
        if (line.StartsWith("data: ", StringComparison.Ordinal) && Round().Match(line) is { Success: true } match)
        {
            var round = int.Parse(match.Groups[1].ValueSpan, inv);
            Volatile.Write(ref received[index, round], Stopwatch.GetTimestamp());
        }
    }
}

async Task WarmUpAsync(int index, CancellationToken cancellationToken)
{
    try
    {
        var conversation = conversations[index % conversations.Length];
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{streamsUrl}/conversations/{conversation.Id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("X-Api-Key", tenantKey);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await stream.CopyToAsync(Stream.Null, cancellationToken);
    }
    catch (OperationCanceledException)
    {
    }
}

string Percentile(double p) =>
    latencies.Count == 0 ? "nan" : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)].ToString("0.0", inv);

static void Report(string key, object value) => Console.WriteLine(FormattableString.Invariant($"{key}={value}"));

static long RssKb(int pid) =>
    long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

// utime + stime from /proc/PID/stat, in seconds (USER_HZ is 100 on Linux).
static double CpuSeconds(int pid)
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
}

internal static partial class Program
{
    [GeneratedRegex("\"bench_round\":(\\d+)")]
    private static partial Regex Round();
}
