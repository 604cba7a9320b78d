using Npgsql;

namespace Tavus.Orchestrator.Tests;

/// <summary>The schema the PostgreSQL migrations leave, read back from the server.</summary>
public sealed class PostgresSchemaTests
{
    [PostgresFact]
    public async Task The_keys_a_callback_is_checked_against_compare_byte_by_byte()
    {
        await using var database = TestDatabase.Create();
        await using var factory = new OrchestratorFactory(database);
        using var tenant = await factory.CreateTenantAsync("acme");
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            """
            SELECT table_name || '.' || column_name, coalesce(collation_name, '(the database''s)')
            FROM information_schema.columns
            WHERE (table_name, column_name) IN (('Conversations', 'Id'), ('ConversationEvents', 'ConversationId'), ('ConversationEvents', 'DedupeKey'))
            ORDER BY 1
            """, connection);
        var collations = new List<string>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                collations.Add($"{reader.GetString(0)} {reader.GetString(1)}");
            }
        }

        Assert.Equal(["ConversationEvents.ConversationId C", "ConversationEvents.DedupeKey C", "Conversations.Id C"], collations);
    }
}
