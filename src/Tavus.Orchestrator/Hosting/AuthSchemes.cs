namespace Tavus.Orchestrator.Hosting;

/// <summary>Names of the two API key schemes, used as authorization policy names too.</summary>
public static class AuthSchemes
{
    public const string Tenant = "TenantApiKey";
    public const string Admin = "AdminApiKey";
    public const string TenantHeader = "X-Api-Key";
    public const string AdminHeader = "X-Admin-Key";
    public const string TenantIdClaim = "tenant_id";
}
