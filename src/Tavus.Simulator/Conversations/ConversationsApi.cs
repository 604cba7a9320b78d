using Microsoft.AspNetCore.Http.HttpResults;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Control;
using Tavus.Simulator.Hosting;

namespace Tavus.Simulator.Conversations;

/// <summary>The part of Tavus' <c>/v2/conversations</c> API the orchestrator uses, answering as Tavus does.</summary>
internal static class ConversationsApi
{
    private const string NotFound = "Conversation not found";

    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/conversations")
            .WithTags("Tavus simulator")
            .AddEndpointFilter<LatencyFilter>();

        group.MapPost("", CreateAsync)
            .WithName("SimulatorCreateConversation")
            .WithSummary("Creates a conversation; its timers start now, as at Tavus")
            .Accepts<CreateConversationRequest>("application/json")
            .Produces<ConversationResponse>()
            .Produces<TavusError>(StatusCodes.Status400BadRequest)
            .Produces<TavusError>(StatusCodes.Status500InternalServerError);

        group.MapGet("", List)
            .WithName("SimulatorListConversations")
            .WithSummary("Lists conversations, newest first")
            .Produces<ConversationListResponse>()
            .Produces<TavusError>(StatusCodes.Status400BadRequest);

        group.MapGet("/{conversationId}", Get)
            .WithName("SimulatorGetConversation")
            .WithSummary("Gets a conversation; verbose=true adds every event it generated")
            .Produces<ConversationResponse>()
            .Produces<TavusError>(StatusCodes.Status404NotFound);

        group.MapPost("/{conversationId}/end", End)
            .WithName("SimulatorEndConversation")
            .WithSummary("Ends a conversation (end_conversation_endpoint_hit)")
            .Produces<TavusMessage>()
            .Produces<TavusError>(StatusCodes.Status404NotFound);

        group.MapDelete("/{conversationId}", Delete)
            .WithName("SimulatorDeleteConversation")
            .WithSummary("Deletes a conversation, ending it first if live (daily_room_has_been_deleted)")
            .Produces<TavusError>(StatusCodes.Status404NotFound);

        return group;
    }

    private static async Task<Results<JsonHttpResult<ConversationResponse>, JsonHttpResult<TavusError>, JsonHttpResult<TavusMessage>>> CreateAsync(
        HttpRequest request, ConversationStore store, FaultInjector faults, CancellationToken cancellationToken)
    {
        var (body, readError) = await SimulatorResults.ReadJsonAsync<CreateConversationRequest>(request, cancellationToken);
        if (readError is not null)
        {
            return SimulatorResults.Json(new TavusError(readError), StatusCodes.Status400BadRequest);
        }

        if (body is null)
        {
            return SimulatorResults.Json(new TavusError("A JSON body is required."), StatusCodes.Status400BadRequest);
        }

        if (Validate(body) is { } invalid)
        {
            return SimulatorResults.Json(new TavusError(invalid), StatusCodes.Status400BadRequest);
        }

        if (faults.ShouldFailCreate())
        {
            return SimulatorResults.Json(new TavusError("Internal server error"), StatusCodes.Status500InternalServerError);
        }

        var conversation = store.TryCreate(body);
        if (conversation is null)
        {
            return SimulatorResults.Json(new TavusMessage("User has reached maximum concurrent conversations"), StatusCodes.Status400BadRequest);
        }

        return SimulatorResults.Json(conversation.ToResponse(created: true));
    }

    private static Results<JsonHttpResult<ConversationListResponse>, JsonHttpResult<TavusError>> List(
        ConversationStore store, int? limit, int? page, string? status)
    {
        if (limit is < 1)
        {
            return SimulatorResults.Json(new TavusError("limit must be at least 1"), StatusCodes.Status400BadRequest);
        }

        if (page is < 1)
        {
            return SimulatorResults.Json(new TavusError("page must be at least 1"), StatusCodes.Status400BadRequest);
        }

        if (status is not (null or ConversationStatus.Active or ConversationStatus.Ended))
        {
            return SimulatorResults.Json(new TavusError("status must be 'active' or 'ended'"), StatusCodes.Status400BadRequest);
        }

        var (data, totalCount) = store.List(status, limit ?? 10, page ?? 1);
        return SimulatorResults.Json(new ConversationListResponse(data, totalCount));
    }

    private static Results<JsonHttpResult<ConversationResponse>, JsonHttpResult<TavusError>> Get(
        string conversationId, ConversationStore store, bool? verbose)
    {
        return store.Find(conversationId) is { } conversation
            ? SimulatorResults.Json(conversation.ToResponse(verbose == true))
            : SimulatorResults.Json(new TavusError(NotFound), StatusCodes.Status404NotFound);
    }

    private static Results<JsonHttpResult<TavusMessage>, JsonHttpResult<TavusError>> End(string conversationId, ConversationStore store)
    {
        if (store.Find(conversationId) is not { } conversation)
        {
            return SimulatorResults.Json(new TavusError(NotFound), StatusCodes.Status404NotFound);
        }

        // Ending twice is not an error at Tavus; the second time nothing is sent.
        return conversation.End(ShutdownReasons.EndpointHit)
            ? SimulatorResults.Json(new TavusMessage("Conversation ended"))
            : SimulatorResults.Json(new TavusMessage("Conversation already ended"));
    }

    private static Results<NoContent, JsonHttpResult<TavusError>> Delete(string conversationId, ConversationStore store) =>
        store.Delete(conversationId)
            ? TypedResults.NoContent()
            : SimulatorResults.Json(new TavusError(NotFound), StatusCodes.Status404NotFound);

    /// <summary>Tavus' refusals, each naming the field at fault; unknown fields pass, as at Tavus.</summary>
    private static string? Validate(CreateConversationRequest request)
    {
        var properties = request.Properties;
        if (properties?.MaxCallDuration is > ConversationStore.DefaultMaxCallDuration)
        {
            return $"properties.max_call_duration must be at most {ConversationStore.DefaultMaxCallDuration} seconds, got {properties.MaxCallDuration}";
        }

        if (properties?.MaxCallDuration is < 1)
        {
            return "properties.max_call_duration must be at least 1 second";
        }

        if (properties?.ParticipantLeftTimeout is < 0)
        {
            return "properties.participant_left_timeout must not be negative";
        }

        if (properties?.ParticipantAbsentTimeout is < 0)
        {
            return "properties.participant_absent_timeout must not be negative";
        }

        if (request.CallbackUrl is { } callbackUrl
            && !(Uri.TryCreate(callbackUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            return "callback_url must be an absolute http or https URL";
        }

        return null;
    }
}
