namespace Tavus.Orchestrator.Data;

public enum DatabaseProvider
{
    /// <summary>The embedded default: one file, one instance.</summary>
    Sqlite,
    /// <summary>One database for several instances behind a load balancer.</summary>
    Postgres,
}

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}
