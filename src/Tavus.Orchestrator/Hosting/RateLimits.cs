using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
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
/// token of its address's bucket (the per-minute budget, refilled over the minute), and once it is
/// spent that address is answered 429 before any lookup — so guessing costs the guesser time, not us work.
/// </summary>
public sealed class Refusals(IOptions<RateLimitOptions> options, TimeProvider time)
{
    private readonly TokenBuckets<string> _webhook = new(options.Value.WebhookRefusalsPerMinute, TimeSpan.FromMinutes(1), time);
    private readonly TokenBuckets<string> _authentication = new(options.Value.AuthFailuresPerMinute, TimeSpan.FromMinutes(1), time);

    /// <summary>False, with how long to wait, when this address has spent its refusals for now.</summary>
    public bool MayTry(HttpContext context, RefusalKind kind, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        return !options.Value.Enabled || Buckets(kind).TryTake(Address(context), 0, out retryAfter);
    }

    /// <summary>Spends one of the address's refusals.</summary>
    public void Count(HttpContext context, RefusalKind kind)
    {
        if (options.Value.Enabled)
        {
            Buckets(kind).TryTake(Address(context), 1, out _);
        }
    }

    private TokenBuckets<string> Buckets(RefusalKind kind) => kind == RefusalKind.Webhook ? _webhook : _authentication;

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
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
        builder.Services.AddSingleton(services => new TenantRequestBuckets(new TokenBuckets<string>(
            services.GetRequiredService<IOptions<RateLimitOptions>>().Value.RequestsPerSecond, TimeSpan.FromSeconds(1),
            services.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>
    /// After authentication: a request to an endpoint marked <c>RequireRateLimiting(TenantPolicy)</c>
    /// takes a token of its tenant's bucket, or is 429. (ASP.NET Core's rate-limiting middleware is
    /// not used: its limiters tick every 100 ms even when nobody calls; this reads its attribute.)
    /// </summary>
    public static IApplicationBuilder UseTenantRateLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var settings = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        if (settings.Enabled
            && context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>() is { PolicyName: TenantPolicy }
            && context.User.FindFirst(AuthSchemes.TenantIdClaim)?.Value is { } tenant
            && !context.RequestServices.GetRequiredService<TenantRequestBuckets>().Buckets.TryTake(tenant, 1, out var wait))
        {
            await TooManyAsync(context, wait, $"This tenant's key is limited to {settings.RequestsPerSecond} requests per second.");
            return;
        }
        await next(context);
    });

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

/// <summary>Each tenant key's requests per second (<see cref="RateLimits.UseTenantRateLimits"/>).</summary>
public sealed record TenantRequestBuckets(TokenBuckets<string> Buckets);
