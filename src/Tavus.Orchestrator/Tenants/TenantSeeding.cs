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

public static class TenantSeeding
{
    public const string DemoTenantId = "demo";
    public const string DemoApiKey = "demo-key";

    /// <summary>
    /// Configuration is the source of truth for the tenants it declares: their name, key and
    /// policy are written at every start. In simulator mode a <c>demo</c> tenant with key
    /// <c>demo-key</c> exists so that a new user can try everything from Swagger UI at once.
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
        if (seeds.Count == 0)
        {
            return;
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
            var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == seed.Id);
            if (tenant is null)
            {
                db.Tenants.Add(new Tenant
                {
                    Id = seed.Id,
                    Name = string.IsNullOrWhiteSpace(seed.Name) ? seed.Id : seed.Name,
                    ApiKeyHash = ApiKeys.Hash(seed.ApiKey),
                    Policy = policy,
                    CreatedAt = now,
                });
            }
            else
            {
                tenant.Name = string.IsNullOrWhiteSpace(seed.Name) ? tenant.Name : seed.Name;
                tenant.ApiKeyHash = ApiKeys.Hash(seed.ApiKey);
                tenant.Policy = policy;
            }
        }
        await db.SaveChangesAsync();
    }
}
