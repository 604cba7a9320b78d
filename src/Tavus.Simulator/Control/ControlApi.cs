using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Conversations;
using Tavus.Simulator.Hosting;

namespace Tavus.Simulator.Control;

/// <summary>Optional body of join and leave (names spelled out for the host's OpenAPI document).</summary>
internal sealed record ParticipantRequest([property: JsonPropertyName("participant_id")] string? ParticipantId = null);

internal sealed record ParticipantsResponse(
    [property: JsonPropertyName("participant_id")] string ParticipantId,
    [property: JsonPropertyName("participants")] IReadOnlyList<string> Participants);

/// <summary>
/// What Tavus has no API for but a test needs: people entering and leaving the room, injected
/// faults, and the log of callbacks sent. Refusals here are ProblemDetails, since this is not Tavus' API.
/// </summary>
internal static class ControlApi
{
    public static RouteGroupBuilder MapControlApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/control").WithTags("Tavus simulator control");

        group.MapPost("/conversations/{conversationId}/join", JoinAsync)
            .WithName("SimulatorJoinParticipant")
            .WithSummary("A participant joins the room (an id is minted when none is given)")
            .Accepts<ParticipantRequest>(isOptional: true, "application/json")
            .Produces<ParticipantsResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPost("/conversations/{conversationId}/leave", LeaveAsync)
            .WithName("SimulatorLeaveParticipant")
            .WithSummary("A participant leaves the room (the most recent one when none is given)")
            .Accepts<ParticipantRequest>(isOptional: true, "application/json")
            .Produces<ParticipantsResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("/conversations/{conversationId}/deliveries", Deliveries)
            .WithName("SimulatorListDeliveries")
            .WithSummary("Every callback sent for the conversation, in send order, with the answer it got")
            .Produces<IReadOnlyList<DeliveryRecord>>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/faults", PutFaultsAsync)
            .WithName("SimulatorReplaceFaults")
            .WithSummary("Replaces the injected faults")
            .Accepts<FaultSettings>("application/json")
            .Produces<FaultSettings>()
            .ProducesValidationProblem();

        group.MapGet("/faults", (FaultInjector faults) => SimulatorResults.Json(faults.Current))
            .WithName("SimulatorGetFaults")
            .WithSummary("The injected faults in force")
            .Produces<FaultSettings>();

        return group;
    }

    private static async Task<Results<JsonHttpResult<ParticipantsResponse>, ValidationProblem, ProblemHttpResult>> JoinAsync(
        string conversationId, HttpRequest request, ConversationStore store, CancellationToken cancellationToken)
    {
        var (body, error) = await SimulatorResults.ReadJsonAsync<ParticipantRequest>(request, cancellationToken);
        error ??= body?.ParticipantId is { Length: > MaxParticipantId } ? $"participant_id is at most {MaxParticipantId} characters." : null;
        if (error is not null)
        {
            return InvalidBody(error);
        }

        if (store.Find(conversationId) is not { } conversation)
        {
            return ConversationNotFound(conversationId);
        }

        var change = conversation.Join(body?.ParticipantId);
        return change.Outcome switch
        {
            ParticipantOutcome.Done => SimulatorResults.Json(new ParticipantsResponse(change.ParticipantId!, change.Participants)),
            ParticipantOutcome.AlreadyInRoom => Conflict($"Participant {change.ParticipantId} is already in the room."),
            _ => Conflict("The conversation has ended; nobody can join it."),
        };
    }

    private static async Task<Results<JsonHttpResult<ParticipantsResponse>, ValidationProblem, ProblemHttpResult>> LeaveAsync(
        string conversationId, HttpRequest request, ConversationStore store, CancellationToken cancellationToken)
    {
        var (body, error) = await SimulatorResults.ReadJsonAsync<ParticipantRequest>(request, cancellationToken);
        error ??= body?.ParticipantId is { Length: > MaxParticipantId } ? $"participant_id is at most {MaxParticipantId} characters." : null;
        if (error is not null)
        {
            return InvalidBody(error);
        }

        if (store.Find(conversationId) is not { } conversation)
        {
            return ConversationNotFound(conversationId);
        }

        var change = conversation.Leave(body?.ParticipantId);
        return change.Outcome switch
        {
            ParticipantOutcome.Done => SimulatorResults.Json(new ParticipantsResponse(change.ParticipantId!, change.Participants)),
            ParticipantOutcome.NotInRoom => Conflict($"Participant {change.ParticipantId} is not in the room."),
            ParticipantOutcome.NotLive => Conflict("The conversation has ended; nobody is in the room."),
            _ => Conflict("Nobody is in the room."),
        };
    }

    private static Results<JsonHttpResult<IReadOnlyList<DeliveryRecord>>, ProblemHttpResult> Deliveries(
        string conversationId, ConversationStore store) =>
        store.Find(conversationId) is { } conversation
            ? SimulatorResults.Json(conversation.Deliveries)
            : ConversationNotFound(conversationId);

    private static async Task<Results<JsonHttpResult<FaultSettings>, ValidationProblem>> PutFaultsAsync(
        HttpRequest request, FaultInjector faults, CancellationToken cancellationToken)
    {
        var (body, error) = await SimulatorResults.ReadJsonAsync<FaultSettings>(request, cancellationToken);
        if (error is not null)
        {
            return InvalidBody(error);
        }

        var settings = body ?? FaultSettings.None;
        var errors = settings.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The faults are out of range.");
        }

        faults.Set(settings);
        return SimulatorResults.Json(settings);
    }

    private static ValidationProblem InvalidBody(string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [error] }, title: "The body is not valid JSON.");

    private static ProblemHttpResult ConversationNotFound(string conversationId) =>
        TypedResults.Problem(
            title: "Conversation not found",
            detail: $"No conversation {conversationId} exists (it may have been deleted).",
            statusCode: StatusCodes.Status404NotFound);

    /// <summary>Ids are echoed in answers: a long one would make a long answer.</summary>
    private const int MaxParticipantId = 128;

    private static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(title: "Not possible in the room's current state", detail: detail, statusCode: StatusCodes.Status409Conflict);
}
