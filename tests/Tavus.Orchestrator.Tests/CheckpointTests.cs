using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Tavus.Orchestrator.Tests;

/// <summary>SQLite's write-ahead log under a stream of callbacks.</summary>
public sealed class CheckpointTests
{
    [SqliteFact]
    public async Task The_WAL_is_checkpointed_beside_the_writer_and_starts_over_instead_of_growing()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Events:CheckpointBytes"] = "65536" });
        var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await factory.CallbackTokenAsync(id);
        using var tavus = factory.CreateClient();

        // One at a time: a commit each, and every commit rewrites at least three whole pages. 400 of
        // them write some 5 MB to the WAL, past the 1000 pages (4 MB) at which SQLite would checkpoint
        // by itself, inside a commit. Checkpointed every 64 KB or so, the WAL starts over from its
        // beginning again and again: its file, which SQLite reuses rather than shrinks, stays small.
        var content = new string('x', 1000);
        for (var seq = 1; seq <= 400; seq++)
        {
            var response = await tavus.PostAsync($"/webhook?token={token}", new StringContent(
                $$"""{"conversation_id": "{{id}}", "event_type": "conversation.utterance", "seq": {{seq}}, "timestamp": 1752218165.5, "properties": {"role": "user", "content": "{{content}}"} }""",
                Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var wal = new FileInfo(new SqliteConnectionStringBuilder(factory.Database.ConnectionString).DataSource + "-wal");
        Assert.True(wal.Exists, "the database is in WAL mode");
        Assert.InRange(wal.Length, 1, 1024 * 1024);
        Assert.Equal(400, await factory.QueryAsync(db => db.ConversationEvents.CountAsync(e => e.EventType == "conversation.utterance")));
    }
}
