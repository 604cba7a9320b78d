using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// The operator's view of conversations: the tenant routes' own handlers, over every tenant
/// (<see cref="TenantClaims.TenantScope"/> is null for an operator), with a tenant filter on the list.
/// </summary>
public static partial class ConversationsApi
{
    public static IEndpointRouteBuilder MapAdminConversations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/conversations")
            .WithTags("Admin: conversations")
            .RequireAuthorization(AuthSchemes.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/", AdminList)
            .WithName("AdminListConversations")
            .WithSummary("Conversations of every tenant (or of tenant_id), newest first, with cursor paging.");
        group.MapGet("/{id}", Get)
            .WithName("AdminGetConversation")
            .WithSummary("One conversation of any tenant, with its timeline, transcript, recording and perception analysis.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/end", End)
            .WithName("AdminEndConversation")
            .WithSummary("End a conversation of any tenant; the timeline records that an operator asked (kind end_requested).")
            .WithDescription("202 when the request went to Tavus (the end arrives as a callback); 200 and nothing sent when it already ended.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        group.MapGet("/{id}/events", Events)
            .WithName("AdminGetConversationEvents")
            .WithSummary("A conversation's timeline, oldest first; with Accept: text/event-stream a live stream (as for its tenant).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    /// <param name="context">The request.</param>
    /// <param name="db">The database.</param>
    /// <param name="tenantId">Only this tenant's conversations; every tenant's when left out.</param>
    /// <param name="status">Only conversations in this status: pending, created, active, ended or failed.</param>
    /// <param name="limit">Page size, 1–100 (default 20).</param>
    /// <param name="cursor">next_cursor of the previous page.</param>
    private static Task<Results<Ok<ConversationPage>, ValidationProblem>> AdminList(HttpContext context, OrchestratorDbContext db,
        [FromQuery(Name = "tenant_id")] string? tenantId, string? status, int? limit, string? cursor)
    {
        var errors = new Dictionary<string, string[]>();
        if (!string.IsNullOrEmpty(tenantId) && !TenantsApi.IsTenantId(tenantId))
        {
            errors["tenant_id"] = ["tenant_id is 1–64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit."];
        }
        return ListAsync(context, db, string.IsNullOrEmpty(tenantId) ? null : tenantId, errors, status, limit, cursor);
    }

    /// <summary>The timeline entry of an operator's end: when it was asked, and by whom.</summary>
    private static EventWrite OperatorEndRequest(Conversation conversation, DateTime asked, DateTime recorded) => new(
        new ConversationEvent
        {
            ConversationId = conversation.Id,
            Kind = EventKind.EndRequested,
            EventType = "orchestrator.end_requested",
            OccurredAt = asked,
            ReceivedAt = recorded,
            Source = EventSource.Operator,
            Properties = """{"requested_by":"operator"}""",
            DedupeKey = $"end_requested:{Guid.NewGuid():N}",
        },
        EventEffect.None, PublicId: conversation.PublicId, TenantId: conversation.TenantId);
}
