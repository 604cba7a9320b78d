using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Conversations;

public static partial class ConversationsApi
{
    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 100;

    /// <summary>The stream budget operators share; parentheses make it no tenant's id.</summary>
    private const string OperatorStreams = "(operators)";

    public static WebApplicationBuilder AddConversations(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConversationsOptions>().BindConfiguration(ConversationsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ConversationEvents>();
        builder.Services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<ConversationCreator>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<EventWriter>());
        return builder;
    }

    public static IEndpointRouteBuilder MapConversations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/conversations")
            .WithTags("Conversations")
            .RequireAuthorization(AuthSchemes.Tenant)
            .RequireRateLimiting(RateLimits.TenantPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapPost("/", ConversationCreation.CreateAsync)
            .WithName("CreateConversation")
            .WithSummary("Create a Tavus conversation under the tenant's policy.")
            .WithDescription("The body is Tavus' create request without callback_url. A timer left out takes the tenant's " +
                "default; one outside the bounds is refused (422) or clamped (listed in adjustments).")
            .Accepts<CreateConversationRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        group.MapGet("/", List).WithName("ListConversations").WithSummary("The tenant's conversations, newest first, with cursor paging.");
        group.MapGet("/{id}", Get)
            .WithName("GetConversation")
            .WithSummary("One conversation with its timeline, transcript, recording and perception analysis.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/end", End)
            .WithName("EndConversation")
            .WithSummary("Ask Tavus to end the conversation.")
            .WithDescription("202 when the request went to Tavus (the end arrives as a callback); 200 and nothing sent when it already ended.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        group.MapGet("/{id}/events", Events)
            .WithName("GetConversationEvents")
            .WithSummary("The conversation's timeline, oldest first; with Accept: text/event-stream a live stream.")
            .WithDescription("The stream sends the timeline so far, then each event as it is recorded, and closes once the " +
                "conversation ended and its transcript arrived (or Events:TranscriptWaitSeconds after the end). A comment line " +
                "comes every Events:HeartbeatSeconds while nothing happens. A client that reconnects with Last-Event-ID gets " +
                "what it has not seen, each event once.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    private static Task<Results<Ok<ConversationPage>, ValidationProblem>> List(
        HttpContext context, OrchestratorDbContext db, string? status, int? limit, string? cursor) =>
        ListAsync(context, db, context.User.TenantId(), [], status, limit, cursor);

    /// <summary>
    /// One tenant's conversations (every tenant's when <c>tenantId</c> is null), newest first; the
    /// caller passes the errors it already found in its own parameters.
    /// </summary>
    internal static async Task<Results<Ok<ConversationPage>, ValidationProblem>> ListAsync(HttpContext context, OrchestratorDbContext db,
        string? tenantId, Dictionary<string, string[]> errors, string? status, int? limit, string? cursor)
    {
        ConversationStatus? statusFilter = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (Enum.TryParse<ConversationStatus>(status, ignoreCase: true, out var parsed)
                && string.Equals(parsed.ToString(), status, StringComparison.OrdinalIgnoreCase))
            {
                statusFilter = parsed;
            }
            else
            {
                errors["status"] = ["status must be one of pending, created, active, ended, failed."];
            }
        }
        var pageSize = limit ?? DefaultPageSize;
        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxPageSize}."];
        }
        (DateTime CreatedAt, string Id)? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            after = DecodeCursor(cursor);
            if (after is null)
            {
                errors["cursor"] = ["cursor is not one this service handed out."];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query.");
        }

        var query = db.Conversations.AsNoTracking();
        if (tenantId is not null)
        {
            query = query.Where(c => c.TenantId == tenantId);
        }
        if (statusFilter is { } s)
        {
            query = query.Where(c => c.Status == s);
        }
        if (after is { } position)
        {
            query = query.Where(c => c.CreatedAt < position.CreatedAt ||
                (c.CreatedAt == position.CreatedAt && string.Compare(c.Id, position.Id) < 0));
        }
        var page = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .Take(pageSize + 1).ToListAsync(context.RequestAborted);
        var next = page.Count > pageSize ? EncodeCursor(page[pageSize - 1]) : null;
        return TypedResults.Ok(new ConversationPage(page.Take(pageSize).Select(ConversationResponse.From).ToList(), next));
    }

    private static async Task<Results<Ok<ConversationDetailsResponse>, ProblemHttpResult>> Get(
        string id, HttpContext context, OrchestratorDbContext db)
    {
        var conversation = await FindAsync(db.Conversations.AsNoTracking(), context, id);
        if (conversation is null)
        {
            return NotFound(id);
        }
        // After the row, not before: a client that sees "ended" finds the end in the timeline (an
        // event and its effect on the row commit together), though events may be newer than the status.
        var events = await Timeline(db, conversation.Id, context.RequestAborted);
        return TypedResults.Ok(ConversationDetailsResponse.From(conversation, events));
    }

    /// <summary>
    /// Asks Tavus to end the conversation. An operator's request is also recorded in the timeline
    /// (<see cref="EventKind.EndRequested"/>, source <c>operator</c>), so the end that follows says who asked.
    /// </summary>
    private static async Task<Results<Ok<ConversationResponse>, Accepted<ConversationResponse>, ProblemHttpResult>> End(
        string id, HttpContext context, OrchestratorDbContext db, TavusClient tavus, EventWriter writer, TimeProvider time)
    {
        var conversation = await FindAsync(db.Conversations.AsNoTracking(), context, id);
        if (conversation is null)
        {
            return NotFound(id);
        }
        switch (conversation.Status)
        {
            case ConversationStatus.Ended:
                return TypedResults.Ok(ConversationResponse.From(conversation));
            case ConversationStatus.Failed:
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conversation failed",
                    detail: "Tavus never accepted this conversation; there is nothing to end.");
            case ConversationStatus.Pending:
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conversation pending",
                    detail: "Tavus has not confirmed this conversation yet (its create answer did not arrive); retry once it is created.");
        }
        var byOperator = context.User.TenantScope() is null;
        if (byOperator)
        {
            // Committed before Tavus is asked, so the end never shows without the request that caused it;
            // should Tavus refuse, the answer says so and the timeline keeps what the operator did.
            var now = time.GetUtcNow().UtcDateTime;
            await writer.WriteAsync(OperatorEndRequest(conversation, now, now), context.RequestAborted);
        }
        try
        {
            await tavus.EndConversationAsync(conversation.TavusId!, context.RequestAborted);
        }
        catch (TavusException ex)
        {
            return ex.ToProblem();
        }
        return TypedResults.Accepted($"{(byOperator ? "/admin" : "")}/conversations/{conversation.PublicId}", ConversationResponse.From(conversation));
    }

    private static async Task<Results<Ok<List<EventResponse>>, EventStreamResult, ProblemHttpResult, ValidationProblem>> Events(
        string id, HttpContext context, IServiceScopeFactory scopes, ConversationEvents live, IOptions<EventOptions> streamOptions)
    {
        // A context of its own, given back before the answer is written: a live stream holds none
        // while it waits (the request's scope lasts as long as the stream).
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var conversation = await FindAsync(db.Conversations.AsNoTracking(), context, id);
        if (conversation is null)
        {
            return NotFound(id);
        }
        if (context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            if (!StreamCursor.TryParse(context.Request.Headers[StreamCursor.Header], out var cursor))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    [StreamCursor.Header] = ["Last-Event-ID is not an id this stream sent."],
                }, title: "Invalid header.");
            }
            var max = streamOptions.Value.MaxStreamsPerTenant;
            // Operators' streams have a budget of their own: watching a tenant's calls takes none of the tenant's.
            var byOperator = context.User.TenantScope() is null;
            if (live.TryOpenStream(byOperator ? OperatorStreams : conversation.TenantId, max) is not { } slot)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live streams",
                    detail: $"{(byOperator ? "Operators" : "This tenant")} already hold{(byOperator ? "" : "s")} {max} live event streams (Events:MaxStreamsPerTenant); close one first.",
                    type: Problems.TooManyStreams);
            }
            // Freed with the request, however it ends: the stream may never be enumerated.
            context.Response.RegisterForDispose(slot);
            return await EventStreamResult.OpenAsync(context, db, live, conversation, cursor);
        }
        var events = await Timeline(db, conversation.Id, context.RequestAborted);
        return TypedResults.Ok(events.Select(EventResponse.From).ToList());
    }

    /// <summary>
    /// The conversation by Tavus' id or ours: a tenant's own (another tenant's is not found), or any
    /// tenant's for an operator.
    /// </summary>
    internal static Task<Conversation?> FindAsync(IQueryable<Conversation> conversations, HttpContext context, string id)
    {
        var tenantId = context.User.TenantScope();
        if (!Conversation.IsPlausibleId(id))
        {
            return Task.FromResult<Conversation?>(null);
        }
        context.SetConversationId(id);
        return tenantId is null
            ? conversations.FirstOrDefaultAsync(c => c.TavusId == id || c.Id == id, context.RequestAborted)
            : conversations.FirstOrDefaultAsync(c => c.TenantId == tenantId && (c.TavusId == id || c.Id == id), context.RequestAborted);
    }

    /// <summary>The conversation's timeline, in <see cref="Lifecycle.InTimelineOrder"/>.</summary>
    internal static async Task<List<ConversationEvent>> Timeline(OrchestratorDbContext db, string conversationKey, CancellationToken cancellationToken) =>
        Lifecycle.InTimelineOrder(await db.ConversationEvents.AsNoTracking().Where(e => e.ConversationId == conversationKey).ToListAsync(cancellationToken));

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Conversation not found",
            detail: $"No conversation '{Problems.Quote(id)}'.");

    private static string EncodeCursor(Conversation c) =>
        ApiKeys.Base64Url(Encoding.UTF8.GetBytes($"{c.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture)}|{c.Id}"));

    private static (DateTime, string)? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var parts = text.Split('|', 2);
            // A cursor is the client's input like any other: a crafted one may hold any number.
            return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTime.MaxValue.Ticks && parts[1].Length is > 0 and <= 32 && TextRules.IsStorable(parts[1])
                ? (new DateTime(ticks, DateTimeKind.Utc), parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
