using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>Conversations written straight to the model, at the times a usage test needs.</summary>
public static class UsageSeed
{
    public static Task SeedAsync(this OrchestratorFactory factory, string tenantId, DateTime createdAt, ConversationStatus status,
        double minutes = 0, string? endReason = null) =>
        factory.QueryAsync(db =>
        {
            db.Conversations.Add(new Conversation
            {
                Id = Conversation.NewId(),
                TenantId = tenantId,
                Status = status,
                CreatedAt = createdAt,
                DeadlineAt = createdAt.AddHours(1),
                MaxCallDuration = 3600,
                EndedAt = status == ConversationStatus.Ended ? createdAt.AddMinutes(minutes) : null,
                EndReason = status == ConversationStatus.Ended ? endReason : null,
                CallbackTokenHash = Guid.NewGuid().ToString("N"),
            });
            return db.SaveChangesAsync();
        });

    public static DateTime Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, DateTimeKind.Utc);
}
