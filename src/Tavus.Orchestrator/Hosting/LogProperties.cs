namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// Structured properties a handler hands to the request log through <see cref="HttpContext.Items"/>,
/// so that the one request line carries them.
/// </summary>
public static class LogProperties
{
    public const string ConversationId = nameof(ConversationId);
    public const string EventType = nameof(EventType);

    public static void SetConversationId(this HttpContext context, string? conversationId) =>
        context.Items[ConversationId] = conversationId;

    public static void SetEventType(this HttpContext context, string eventType) =>
        context.Items[EventType] = eventType;
}

/// <summary>
/// Endpoint metadata: this endpoint's successful requests are logged by the code that completes
/// them, so the request log writes their line at Debug (see <see cref="HostingExtensions.UseHosting"/>).
/// </summary>
public sealed class SuccessLoggedElsewhere
{
    public static SuccessLoggedElsewhere Instance { get; } = new();
}
