namespace Tavus.Orchestrator.Data;

/// <summary>Brings the database's schema up to date before the app takes requests.</summary>
public interface IDatabaseMigrator
{
    Task MigrateAsync(OrchestratorDbContext db, CancellationToken cancellationToken);
}
