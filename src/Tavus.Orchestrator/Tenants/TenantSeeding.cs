using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Tavus;

namespace Tavus.Orchestrator.Tenants;

/// <summary>A tenant declared in configuration (<c>Tenants:0:Id</c>, <c>Name</c>, <c>ApiKey</c>, <c>Policy:…</c>).</summary>
public sealed class TenantSeed
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string ApiKey { get; set; } = "";
    public PolicyInput? Policy { get; set; }
}

public static partial class TenantSeeding
{
    public const string DemoTenantId = "demo";
    public const string DemoApiKey = "demo-key";
    /// <summary>The admin key in simulator mode when Admin:ApiKey is not set.</summary>
    public const string DemoAdminKey = "demo-admin-key";

    /// <summary>
    /// Configuration declares tenants: their name and policy are written at every start, their key
    /// only when the configured key differs from the one configuration applied last time (the
    /// operator changed it), so a key rotated through the admin API is not silently undone by a
    /// restart. In simulator mode a <c>demo</c> tenant with key <c>demo-key</c> exists so that a
    /// new user can try everything from Swagger UI at once; with a Tavus key that public key would
    /// spend the real account, so the tenant is disabled (not deleted: its conversations stay).
    /// </summary>
    public static async Task SeedTenantsAsync(this WebApplication app)
    {
        // Each entry on its own: a host can give the "Tenants" section itself an empty value,
        // which makes a whole-list bind come back empty.
        var seeds = app.Configuration.GetSection("Tenants").GetChildren()
            .Select(entry => entry.Get<TenantSeed>() ?? new TenantSeed())
            .ToList();
        var tavus = app.Services.GetRequiredService<IOptions<TavusOptions>>().Value;
        if (tavus.UseSimulator && seeds.All(s => s.Id != DemoTenantId))
        {
            seeds.Add(new TenantSeed { Id = DemoTenantId, Name = "Demo (simulator)", ApiKey = DemoApiKey });
        }
        if (!tavus.UseSimulator && seeds.FirstOrDefault(s => s.ApiKey == DemoApiKey) is { } demoKeyed)
        {
            throw new InvalidOperationException($"Tenants: '{DemoApiKey}' is the public key of simulator mode; " +
                $"with a Tavus:ApiKey set, give tenant '{demoKeyed.Id}' a key of its own.");
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        foreach (var seed in seeds)
        {
            if (string.IsNullOrWhiteSpace(seed.Id) || string.IsNullOrWhiteSpace(seed.ApiKey))
            {
                throw new InvalidOperationException("Every entry of Tenants needs an Id and an ApiKey.");
            }
            var (policy, errors) = seed.Policy?.Validate($"Tenants:{seed.Id}:Policy") ?? (TenantPolicy.TavusDefaults, []);
            if (policy is null)
            {
                throw new InvalidOperationException("Invalid tenant policy in configuration: " +
                    string.Join("; ", errors.SelectMany(e => e.Value)));
            }
            var keyHash = ApiKeys.Hash(seed.ApiKey);
            var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == seed.Id);
            if (tenant is null)
            {
                db.Tenants.Add(new Tenant
                {
                    Id = seed.Id,
                    Name = string.IsNullOrWhiteSpace(seed.Name) ? seed.Id : seed.Name,
                    ApiKeyHash = keyHash,
                    SeededKeyHash = keyHash,
                    Policy = policy,
                    CreatedAt = now,
                });
                continue;
            }
            tenant.Name = string.IsNullOrWhiteSpace(seed.Name) ? tenant.Name : seed.Name;
            tenant.Policy = policy;
            tenant.Disabled = false;
            if (tenant.SeededKeyHash != keyHash)
            {
                if (tenant.ApiKeyHash != keyHash)
                {
                    Log.ConfiguredKeyApplied(app.Logger, tenant.Id);
                }
                tenant.ApiKeyHash = keyHash;
                tenant.SeededKeyHash = keyHash;
            }
        }
        await db.SaveChangesAsync();

        if (!tavus.UseSimulator && seeds.All(s => s.Id != DemoTenantId)
            && await db.Tenants.Where(t => t.Id == DemoTenantId && !t.Disabled)
                .ExecuteUpdateAsync(t => t.SetProperty(x => x.Disabled, true)) > 0)
        {
            Log.DemoTenantDisabled(app.Logger, DemoTenantId);
        }
    }

    // Event ids 1–99: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information,
            Message = "Tenant {TenantId}: the key in configuration changed since it was last applied, so it replaces the tenant's key")]
        public static partial void ConfiguredKeyApplied(ILogger logger, string tenantId);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
            Message = "Tenant {TenantId} is disabled: its key is public and Tavus:ApiKey is set; its conversations stay, and simulator mode enables it again")]
        public static partial void DemoTenantDisabled(ILogger logger, string tenantId);
    }
}
