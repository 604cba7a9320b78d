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

/// <summary>
/// Endpoint metadata: the endpoint authenticates and limits its callers itself and writes every
/// refusal as a problem, so the API's rate limits and status-code pages are skipped for it (the
/// callback path's shortest pipeline).
/// </summary>
public sealed class ChecksItsOwnCallers
{
    public static ChecksItsOwnCallers Instance { get; } = new();
}
