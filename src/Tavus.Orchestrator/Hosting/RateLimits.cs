using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Tavus.Orchestrator.Hosting;

/// <summary>The <c>RateLimits</c> section.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Off only for benchmarks and tests of something else.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests a tenant's key may make per second (a token bucket of this size, refilled every second).</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 50;

    /// <summary>Refused callbacks (no token, or one that matches no conversation) per remote address per minute.</summary>
    [Range(1, 1_000_000)]
    public int WebhookRefusalsPerMinute { get; set; } = 60;

    /// <summary>Wrong tenant or operator keys per remote address per minute; past it every key from there waits.</summary>
    [Range(1, 1_000_000)]
    public int AuthFailuresPerMinute { get; set; } = 20;
}

/// <summary>What a remote address is refused for, each counted on its own.</summary>
public enum RefusalKind
{
    Webhook,
    Authentication,
}

/// <summary>
/// Refusals per remote address (a stranger guessing callback tokens or keys): each refusal spends a
/// permit of its address's one-minute window, and once the window is spent that address is answered
/// 429 before any lookup — so guessing costs the guesser time, not us work.
/// </summary>
public sealed class Refusals : IDisposable
{
    private readonly PartitionedRateLimiter<(RefusalKind Kind, string Address)> _limiter;

    public Refusals(IOptions<RateLimitOptions> options)
    {
        var settings = options.Value;
        _limiter = PartitionedRateLimiter.Create<(RefusalKind Kind, string Address), (RefusalKind Kind, string Address)>(key =>
            !settings.Enabled
                ? RateLimitPartition.GetNoLimiter(key)
                : RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = k.Kind == RefusalKind.Webhook ? settings.WebhookRefusalsPerMinute : settings.AuthFailuresPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
    }

    /// <summary>False, with how long to wait, when this address has spent its refusals for now.</summary>
    public bool MayTry(HttpContext context, RefusalKind kind, out TimeSpan retryAfter)
    {
        // Zero permits: asks whether any are left without spending one.
        using var lease = _limiter.AttemptAcquire(Key(context, kind), 0);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        return lease.IsAcquired;
    }

    /// <summary>Spends one of the address's refusals.</summary>
    public void Count(HttpContext context, RefusalKind kind) => _limiter.AttemptAcquire(Key(context, kind)).Dispose();

    private static (RefusalKind, string) Key(HttpContext context, RefusalKind kind) =>
        (kind, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    public void Dispose() => _limiter.Dispose();
}

public static class RateLimits
{
    /// <summary>The policy of tenant routes: a token bucket per authenticated tenant.</summary>
    public const string TenantPolicy = "tenant";

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Refusals>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(TenantPolicy, context =>
            {
                var settings = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var tenant = context.User.FindFirst(AuthSchemes.TenantIdClaim)?.Value ?? "";
                return !settings.Enabled
                    ? RateLimitPartition.GetNoLimiter(tenant)
                    : RateLimitPartition.GetTokenBucketLimiter(tenant, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = settings.RequestsPerSecond,
                        TokensPerPeriod = settings.RequestsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                    });
            });
            limiter.OnRejected = (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                return new ValueTask(TooManyAsync(rejected.HttpContext, wait,
                    $"This tenant's key is limited to {rejected.HttpContext.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.RequestsPerSecond} requests per second."));
            };
        });
        return builder;
    }

    /// <summary>429 with <c>Retry-After</c> in whole seconds (at least one).</summary>
    public static ProblemHttpResult TooMany(HttpResponse response, TimeSpan retryAfter, string detail)
    {
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail,
            type: Problems.RateLimited);
    }

    /// <summary>The same, written from outside an endpoint (the limiter, an authentication challenge).</summary>
    public static Task TooManyAsync(HttpContext context, TimeSpan retryAfter, string detail) =>
        TooMany(context.Response, retryAfter, detail).ExecuteAsync(context);
}
