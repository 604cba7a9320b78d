using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Tenants;

/// <summary>Operator settings.</summary>
public sealed class AdminOptions
{
    /// <summary>The key the admin API expects in X-Admin-Key; empty turns the admin API off (403).</summary>
    public string ApiKey { get; set; } = "";
}

/// <summary><c>X-Api-Key</c> → the tenant whose key hashes to the same value.</summary>
internal sealed class TenantKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IServiceScopeFactory scopes,
    Refusals refusals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers[AuthSchemes.TenantHeader] is not [{ Length: > 0 } key])
        {
            return AuthenticateResult.NoResult();
        }
        if (KeyGuessing.Refused(Context, refusals) is { } refused)
        {
            return refused;
        }
        var hash = ApiKeys.Hash(key);
        // A context of its own, given back at once: a request that lasts (a live stream) holds none.
        Tenant? tenant;
        await using (var scope = scopes.CreateAsyncScope())
        {
            tenant = await scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>().Tenants.AsNoTracking()
                .Where(t => t.ApiKeyHash == hash && !t.Disabled).FirstOrDefaultAsync(Context.RequestAborted);
        }
        if (tenant is null)
        {
            refusals.Count(Context, RefusalKind.Authentication);
            return AuthenticateResult.Fail("Unknown API key.");
        }
        // The request's handlers read the tenant (its policy) from here, not from the database again.
        Context.Items[typeof(Tenant)] = tenant;
        var identity = new ClaimsIdentity([new Claim(AuthSchemes.TenantIdClaim, tenant.Id)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        KeyGuessing.ChallengeAsync(Context) ?? Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            $"A valid tenant API key is required in the {AuthSchemes.TenantHeader} header.");
}

/// <summary><c>X-Admin-Key</c> compared in constant time with Admin:ApiKey.</summary>
internal sealed class AdminKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AdminOptions> admin,
    Refusals refusals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = admin.CurrentValue.ApiKey;
        if (string.IsNullOrEmpty(expected) || Request.Headers[AuthSchemes.AdminHeader] is not [{ Length: > 0 } key])
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (KeyGuessing.Refused(Context, refusals) is { } refused)
        {
            return Task.FromResult(refused);
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected)))
        {
            refusals.Count(Context, RefusalKind.Authentication);
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, TenantClaims.OperatorRole)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        KeyGuessing.ChallengeAsync(Context) ?? (string.IsNullOrEmpty(admin.CurrentValue.ApiKey)
            ? Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
                "The admin API is disabled: no Admin:ApiKey is configured.")
            : Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
                $"A valid operator key is required in the {AuthSchemes.AdminHeader} header."));
}

/// <summary>
/// An address that sent too many wrong keys in the last minute is answered 429 for any key, before
/// the key is looked at: guessing a key (the operator's above all) costs the guesser time.
/// </summary>
internal static class KeyGuessing
{
    private const string RetryAfterItem = "KeyGuessing.RetryAfter";

    public static AuthenticateResult? Refused(HttpContext context, Refusals refusals)
    {
        if (refusals.MayTry(context, RefusalKind.Authentication, out var retryAfter))
        {
            return null;
        }
        context.Items[RetryAfterItem] = retryAfter;
        return AuthenticateResult.Fail("Too many wrong keys from this address.");
    }

    /// <summary>The 429 challenge for a refused address; null for any other failure.</summary>
    public static Task? ChallengeAsync(HttpContext context) =>
        context.Items[RetryAfterItem] is TimeSpan retryAfter
            ? RateLimits.TooManyAsync(context, retryAfter, "Too many wrong keys from this address; retry later.")
            : null;
}

public static class TenantClaims
{
    /// <summary>The role the operator key grants.</summary>
    public const string OperatorRole = "admin";

    /// <summary>
    /// Whose data a request may see: the tenant's own id, or null for an operator, who sees every
    /// tenant's. Only called behind the tenant or the operator policy.
    /// </summary>
    public static string? TenantScope(this ClaimsPrincipal user) => user.IsInRole(OperatorRole) ? null : user.TenantId();

    /// <summary>The authenticated tenant's id; only called behind the tenant policy.</summary>
    public static string TenantId(this ClaimsPrincipal user) =>
        user.FindFirstValue(AuthSchemes.TenantIdClaim) ?? throw new InvalidOperationException("No tenant on this request.");

    /// <summary>The authenticated tenant as its key's check read it; only called behind the tenant policy.</summary>
    public static Tenant AuthenticatedTenant(this HttpContext context) =>
        context.Items[typeof(Tenant)] as Tenant ?? throw new InvalidOperationException("No tenant on this request.");
}
