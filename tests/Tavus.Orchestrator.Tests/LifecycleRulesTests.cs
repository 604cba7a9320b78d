using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Tests;

/// <summary>The SQL the event writer runs (<see cref="Lifecycle.ApplySql"/>) against the rules it states in C#.</summary>
public sealed class LifecycleRulesTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private const string Properties = """{"shutdown_reason": "max_call_duration reached"}""";

    private static readonly bool[] AdoptsOrNot = [false, true];

    [Fact]
    public async Task Every_event_moves_every_conversation_in_the_database_as_Lifecycle_states()
    {
        var now = Factory.Time.GetUtcNow().UtcDateTime;
        var cases = (
            from status in Enum.GetValues<ConversationStatus>()
            from kind in Enum.GetValues<EventKind>()
            from adopts in AdoptsOrNot
            select (Status: status, Kind: kind, Adopts: adopts)).ToList();
        var before = cases.Select((c, i) => new Conversation
        {
            Id = $"rule{i}-{Tenant.Id}",
            TenantId = Tenant.Id,
            Status = c.Status,
            CreatedAt = now,
            DeadlineAt = now.AddHours(1),
            // Heard from later than the event arrives, or never.
            LastEventAt = i % 2 == 0 ? null : now.AddMinutes(2),
            CallbackTokenHash = $"rule-token-{i}-{Tenant.Id}",
        }).ToList();
        var writes = cases.Select((c, i) => new EventWrite(
            new ConversationEvent
            {
                ConversationId = before[i].Id,
                Kind = c.Kind,
                EventType = EventTypeOf(c.Kind),
                OccurredAt = now.AddSeconds(i),
                ReceivedAt = now.AddMinutes(1),
                Properties = Properties,
                DedupeKey = $"rule-{i}",
            },
            Lifecycle.EffectOf(c.Kind, System.Text.Json.JsonDocument.Parse(Properties).RootElement),
            AdoptTavusId: c.Adopts ? $"tavus-rule{i}" : null)).ToList();
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
            db.Conversations.AddRange(before);
            await db.SaveChangesAsync();
        }

        var writer = Factory.Services.GetRequiredService<EventWriter>();
        var outcomes = await Task.WhenAll(writes.Select(write => writer.WriteAsync(write, CancellationToken.None)));

        Assert.All(outcomes, outcome => Assert.Equal(RecordOutcome.Recorded, outcome));
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
            var stored = await db.Conversations.AsNoTracking().Where(c => c.TenantId == Tenant.Id).ToDictionaryAsync(c => c.Id);
            for (var i = 0; i < cases.Count; i++)
            {
                var expected = before[i];
                Lifecycle.Apply(expected, writes[i]);
                var actual = stored[expected.Id];
                var what = $"{cases[i].Kind} on {cases[i].Status}{(cases[i].Adopts ? ", adopting Tavus' id" : "")}";
                Assert.True(expected.Status == actual.Status, $"{what}: {actual.Status}, the rule says {expected.Status}");
                Assert.True(expected.TavusId == actual.TavusId, $"{what}: Tavus id {actual.TavusId}, the rule says {expected.TavusId}");
                Assert.True(expected.EndedAt == actual.EndedAt, $"{what}: ended at {actual.EndedAt:O}, the rule says {expected.EndedAt:O}");
                Assert.True(expected.EndReason == actual.EndReason, $"{what}: end reason {actual.EndReason}, the rule says {expected.EndReason}");
                Assert.True(expected.ShutdownReason == actual.ShutdownReason, $"{what}: shutdown reason {actual.ShutdownReason}, the rule says {expected.ShutdownReason}");
                Assert.True(expected.LastEventAt == actual.LastEventAt, $"{what}: last event at {actual.LastEventAt:O}, the rule says {expected.LastEventAt:O}");
            }
        }
    }

    private static string EventTypeOf(EventKind kind) => kind switch
    {
        EventKind.ReplicaJoined => "system.replica_joined",
        EventKind.Ended => "system.shutdown",
        EventKind.TranscriptionReady => "application.transcription_ready",
        EventKind.RecordingReady => "application.recording_ready",
        EventKind.PerceptionAnalysis => "application.perception_analysis",
        _ => "conversation.utterance",
    };
}
