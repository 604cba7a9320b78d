using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tavus;

namespace Tavus.Orchestrator.Tenants;

public sealed record CreateTenantRequest(string? Id, string? Name, PolicyInput? Policy);

/// <summary>A tenant, never its key; a <c>disabled</c> one (<c>demo</c> outside simulator mode) authenticates nothing.</summary>
public sealed record TenantResponse(string Id, string Name, TenantPolicy Policy, DateTime CreatedAt, bool Disabled)
{
    public static TenantResponse From(Tenant tenant) => new(tenant.Id, tenant.Name, tenant.Policy, tenant.CreatedAt, tenant.Disabled);
}

/// <summary>The calling tenant, with the minutes it used this UTC month (its quota's measure: running conversations count their time so far).</summary>
public sealed record OwnTenantResponse(string Id, string Name, TenantPolicy Policy, DateTime CreatedAt, bool Disabled,
    [property: System.ComponentModel.DataAnnotations.Range(0, double.MaxValue)] double MinutesUsedThisMonth);

public sealed record CreatedTenantResponse(string Id, string Name, TenantPolicy Policy, DateTime CreatedAt, string ApiKey);

public sealed record ApiKeyResponse(string ApiKey);

public static partial class TenantsApi
{
    public static WebApplicationBuilder AddTenants(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration("Admin")
            .PostConfigure<IOptions<TavusOptions>>((admin, tavus) =>
            {
                // Simulator mode spends nothing real, so a new user gets the admin API at once too
                // (the SIMULATOR MODE warning names the key); with a Tavus key only a configured one opens it.
                if (tavus.Value.UseSimulator && string.IsNullOrEmpty(admin.ApiKey))
                {
                    admin.ApiKey = TenantSeeding.DemoAdminKey;
                }
            });
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, TenantKeyHandler>(AuthSchemes.Tenant, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyHandler>(AuthSchemes.Admin, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthSchemes.Tenant, policy => policy.AddAuthenticationSchemes(AuthSchemes.Tenant).RequireAuthenticatedUser())
            .AddPolicy(AuthSchemes.Admin, policy => policy.AddAuthenticationSchemes(AuthSchemes.Admin).RequireAuthenticatedUser());
        return builder;
    }

    public static IEndpointRouteBuilder MapTenants(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/tenants")
            .WithTags("Admin: tenants")
            .RequireAuthorization(AuthSchemes.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        admin.MapPost("/", CreateTenant).WithName("CreateTenant").WithSummary("Create a tenant; its API key is shown once.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/", ListTenants).WithName("ListTenants").WithSummary("List tenants (never their keys).");
        admin.MapGet("/{id}", GetTenant).WithName("GetTenant").WithSummary("One tenant (never its key).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPut("/{id}/policy", ReplacePolicy).WithName("ReplaceTenantPolicy").WithSummary("Replace a tenant's policy; applies to new conversations.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{id}/keys", RotateKey).WithName("RotateTenantKey").WithSummary("Rotate a tenant's key: the new key is shown once, the old one stops working.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/tenant", GetOwnTenant)
            .WithName("GetOwnTenant")
            .WithTags("Tenant")
            .RequireAuthorization(AuthSchemes.Tenant)
            .RequireRateLimiting(RateLimits.TenantPolicy)
            .WithSummary("The calling tenant: its id, name, policy and the minutes it used this UTC month.")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex TenantIdPattern();

    /// <summary>Whether the text has the shape of a tenant id (anything else names no tenant).</summary>
    public static bool IsTenantId(string text) => TenantIdPattern().IsMatch(text);

    private static async Task<Results<Created<CreatedTenantResponse>, ValidationProblem, ProblemHttpResult>> CreateTenant(
        CreateTenantRequest request, OrchestratorDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Id is null || !TenantIdPattern().IsMatch(request.Id))
        {
            errors["id"] = ["id is required: 1–64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit."];
        }
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200 || !TextRules.IsStorable(request.Name))
        {
            errors["name"] = ["name is required, at most 200 characters, without control characters."];
        }
        var (policy, policyErrors) = request.Policy?.Validate() ?? (TenantPolicy.TavusDefaults, []);
        foreach (var (field, messages) in policyErrors)
        {
            errors[field] = messages;
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The tenant is not valid.");
        }
        if (await db.Tenants.AnyAsync(t => t.Id == request.Id, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant exists",
                detail: $"A tenant with id '{request.Id}' already exists.");
        }
        var apiKey = ApiKeys.Generate();
        var tenant = new Tenant
        {
            Id = request.Id!,
            Name = request.Name!,
            ApiKeyHash = ApiKeys.Hash(apiKey),
            Policy = policy!,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.Tenants.Add(tenant);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant exists",
                detail: $"A tenant with id '{request.Id}' already exists.");
        }
        return TypedResults.Created($"/admin/tenants/{tenant.Id}",
            new CreatedTenantResponse(tenant.Id, tenant.Name, tenant.Policy, tenant.CreatedAt, apiKey));
    }

    private static async Task<Ok<List<TenantResponse>>> ListTenants(OrchestratorDbContext db, CancellationToken cancellationToken)
    {
        var tenants = await db.Tenants.AsNoTracking().OrderBy(t => t.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(tenants.Select(TenantResponse.From).ToList());
    }

    private static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetTenant(
        string id, OrchestratorDbContext db, CancellationToken cancellationToken) =>
        TenantIdPattern().IsMatch(id) && await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is { } tenant
            ? TypedResults.Ok(TenantResponse.From(tenant))
            : TenantNotFound(id);

    private static async Task<Results<Ok<TenantResponse>, ValidationProblem, ProblemHttpResult>> ReplacePolicy(
        string id, PolicyInput policy, OrchestratorDbContext db, CancellationToken cancellationToken)
    {
        var (validated, errors) = policy.Validate(prefix: "policy");
        if (validated is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The policy is not valid.");
        }
        var tenant = TenantIdPattern().IsMatch(id) ? await db.Tenants.FirstOrDefaultAsync(t => t.Id == id, cancellationToken) : null;
        if (tenant is null)
        {
            return TenantNotFound(id);
        }
        tenant.Policy = validated;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }

    private static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> RotateKey(
        string id, OrchestratorDbContext db, CancellationToken cancellationToken)
    {
        if (!TenantIdPattern().IsMatch(id))
        {
            return TenantNotFound(id);
        }
        var apiKey = ApiKeys.Generate();
        var updated = await db.Tenants.Where(t => t.Id == id)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.ApiKeyHash, ApiKeys.Hash(apiKey)), cancellationToken);
        return updated == 0 ? TenantNotFound(id) : TypedResults.Ok(new ApiKeyResponse(apiKey));
    }

    private static async Task<Ok<OwnTenantResponse>> GetOwnTenant(HttpContext context, OrchestratorDbContext db, Usage.UsageReports usage)
    {
        var tenantId = context.User.TenantId();
        var tenant = await db.Tenants.AsNoTracking().FirstAsync(t => t.Id == tenantId, context.RequestAborted);
        var minutes = await usage.MinutesThisMonthAsync(tenantId, context.RequestAborted);
        return TypedResults.Ok(new OwnTenantResponse(tenant.Id, tenant.Name, tenant.Policy, tenant.CreatedAt, tenant.Disabled,
            Math.Round(minutes, 1, MidpointRounding.AwayFromZero)));
    }

    private static ProblemHttpResult TenantNotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tenant not found", detail: $"No tenant '{Problems.Quote(id)}'.");
}
