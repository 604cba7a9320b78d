using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
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
    OrchestratorDbContext db) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers[AuthSchemes.TenantHeader] is not [{ Length: > 0 } key])
        {
            return AuthenticateResult.NoResult();
        }
        var hash = ApiKeys.Hash(key);
        var tenantId = await db.Tenants.AsNoTracking()
            .Where(t => t.ApiKeyHash == hash && !t.Disabled).Select(t => t.Id).FirstOrDefaultAsync(Context.RequestAborted);
        if (tenantId is null)
        {
            return AuthenticateResult.Fail("Unknown API key.");
        }
        var identity = new ClaimsIdentity([new Claim(AuthSchemes.TenantIdClaim, tenantId)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            $"A valid tenant API key is required in the {AuthSchemes.TenantHeader} header.");
}

/// <summary><c>X-Admin-Key</c> compared in constant time with Admin:ApiKey.</summary>
internal sealed class AdminKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AdminOptions> admin) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = admin.CurrentValue.ApiKey;
        if (string.IsNullOrEmpty(expected) || Request.Headers[AuthSchemes.AdminHeader] is not [{ Length: > 0 } key])
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected)))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        string.IsNullOrEmpty(admin.CurrentValue.ApiKey)
            ? Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
                "The admin API is disabled: no Admin:ApiKey is configured.")
            : Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
                $"A valid operator key is required in the {AuthSchemes.AdminHeader} header.");
}

internal static class Problems
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

public static class TenantClaims
{
    /// <summary>The authenticated tenant's id; only called behind the tenant policy.</summary>
    public static string TenantId(this ClaimsPrincipal user) =>
        user.FindFirstValue(AuthSchemes.TenantIdClaim) ?? throw new InvalidOperationException("No tenant on this request.");
}
