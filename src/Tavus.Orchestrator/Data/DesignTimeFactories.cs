using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Tavus.Orchestrator.Data;

// Let `dotnet ef migrations add … --context <type>` build each provider's model without a server.
// Both are needed: a factory of the derived context would otherwise also serve the base one.

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<OrchestratorDbContext>
{
    public OrchestratorDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<OrchestratorDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresOrchestratorDbContext>
{
    public PostgresOrchestratorDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresOrchestratorDbContext>().UseNpgsql("Host=localhost;Database=orchestrator_design").Options);
}
