using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Tavus.Orchestrator.Tavus;

/// <summary>Tavus' view of a conversation (create answer, GET, list item); untrusted input.</summary>
public sealed record TavusConversation(
    string ConversationId,
    string? ConversationName,
    string? ConversationUrl,
    string? Status,
    string? CallbackUrl,
    string? ShutdownReason,
    string? CreatedAt,
    string? UpdatedAt,
    List<TavusEvent>? Events);

/// <summary>A page of <c>GET /v2/conversations</c>.</summary>
public sealed record TavusConversationPage(List<TavusConversation>? Data, int? TotalCount);

/// <summary>An event in a verbose GET: the same shape as a callback.</summary>
public sealed record TavusEvent(string? EventType, string? MessageType, JsonElement Timestamp, JsonElement Properties);

/// <summary>Why a call to Tavus did not give an answer; each maps to one HTTP status of ours.</summary>
public enum TavusFailure
{
    /// <summary>Tavus refused the request (4xx): 502 with Tavus' message.</summary>
    Refused,
    /// <summary>Tavus' own concurrency limit: 429.</summary>
    ConcurrencyLimit,
    /// <summary>Tavus answered 5xx or could not be reached: 502.</summary>
    Unavailable,
    /// <summary>Tavus did not answer in time: 504.</summary>
    Timeout,
    /// <summary>Tavus does not know the conversation (its 404): 502, for it is Tavus refusing, not our 404.</summary>
    NotFound,
}

public sealed class TavusException(TavusFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public TavusFailure Failure { get; } = failure;

    public int StatusCode => Failure switch
    {
        TavusFailure.ConcurrencyLimit => StatusCodes.Status429TooManyRequests,
        TavusFailure.Timeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status502BadGateway,
    };

    public string Title => Failure switch
    {
        TavusFailure.Refused => "Tavus refused the request",
        TavusFailure.ConcurrencyLimit => "Tavus concurrency limit reached",
        TavusFailure.Timeout => "Tavus did not answer in time",
        TavusFailure.NotFound => "Tavus does not know this conversation",
        _ => "Tavus is unavailable",
    };

    public ProblemHttpResult ToProblem() => TypedResults.Problem(statusCode: StatusCode, title: Title, detail: Message,
        type: Failure == TavusFailure.ConcurrencyLimit ? Hosting.Problems.TavusConcurrencyLimit : null);
}
