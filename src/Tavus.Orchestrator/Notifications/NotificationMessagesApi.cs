using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// The delivery log, a retry of one message, and recovery of every failed one in a window; the log
/// and the retry also for an operator, over every tenant (<see cref="TenantClaims.TenantScope"/>).
/// </summary>
public static class NotificationMessagesApi
{
    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 100;

    /// <summary>How far back <c>recover</c> reaches.</summary>
    public static readonly TimeSpan RecoverWindow = TimeSpan.FromDays(14);

    public static RouteGroupBuilder MapNotificationMessages(this RouteGroupBuilder tenant)
    {
        tenant.MapGet("/messages", ListAsync)
            .WithName("ListNotificationMessages")
            .WithSummary("The tenant's messages, newest first, each with its attempts (time, status code or error, duration).")
            .ProducesValidationProblem();
        tenant.MapPost("/messages/{id}/retry", RetryAsync)
            .WithName("RetryNotificationMessage")
            .WithSummary("Send one message again now, with the same webhook-id.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        tenant.MapPost("/recover", RecoverAsync)
            .WithName("RecoverNotificationMessages")
            .WithSummary("Send again every failed message created from since to until (at most 14 days back); 202 with the count.")
            .ProducesValidationProblem();
        return tenant;
    }

    public static IEndpointRouteBuilder MapAdminNotificationMessages(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/notifications")
            .WithTags("Admin: notifications")
            .RequireAuthorization(AuthSchemes.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapGet("/messages", AdminListAsync)
            .WithName("AdminListNotificationMessages")
            .WithSummary("Messages of every tenant (or of tenant_id), newest first, each with its attempts.")
            .ProducesValidationProblem();
        admin.MapPost("/messages/{id}/retry", RetryAsync)
            .WithName("AdminRetryNotificationMessage")
            .WithSummary("Send one message of any tenant again now, with the same webhook-id.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static Task<Results<Ok<NotificationMessagePage>, ValidationProblem>> ListAsync(
        HttpContext context, OrchestratorDbContext db, string? status, int? limit, string? cursor) =>
        PageAsync(context, db, context.User.TenantId(), [], status, limit, cursor);

    /// <param name="context">The request.</param>
    /// <param name="db">The database.</param>
    /// <param name="tenantId">Only this tenant's messages; every tenant's when left out.</param>
    /// <param name="status">Only messages in this status: pending, delivered or failed.</param>
    /// <param name="limit">Page size, 1–100 (default 20).</param>
    /// <param name="cursor">next_cursor of the previous page.</param>
    private static Task<Results<Ok<NotificationMessagePage>, ValidationProblem>> AdminListAsync(HttpContext context, OrchestratorDbContext db,
        [FromQuery(Name = "tenant_id")] string? tenantId, string? status, int? limit, string? cursor)
    {
        var errors = new Dictionary<string, string[]>();
        if (!string.IsNullOrEmpty(tenantId) && !TenantsApi.IsTenantId(tenantId))
        {
            errors["tenant_id"] = ["tenant_id is 1–64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit."];
        }
        return PageAsync(context, db, string.IsNullOrEmpty(tenantId) ? null : tenantId, errors, status, limit, cursor);
    }

    /// <summary>One tenant's messages (every tenant's when <c>tenantId</c> is null), after the caller's own errors.</summary>
    private static async Task<Results<Ok<NotificationMessagePage>, ValidationProblem>> PageAsync(HttpContext context, OrchestratorDbContext db,
        string? tenantId, Dictionary<string, string[]> errors, string? status, int? limit, string? cursor)
    {
        MessageStatus? statusFilter = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (Enum.TryParse<MessageStatus>(status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                && string.Equals(parsed.ToString(), status, StringComparison.OrdinalIgnoreCase))
            {
                statusFilter = parsed;
            }
            else
            {
                errors["status"] = ["status must be one of pending, delivered, failed."];
            }
        }
        var pageSize = limit ?? DefaultPageSize;
        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxPageSize}."];
        }
        var after = string.IsNullOrEmpty(cursor) ? null : DecodeCursor(cursor);
        if (!string.IsNullOrEmpty(cursor) && after is null)
        {
            errors["cursor"] = ["cursor is not one this service handed out."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query.");
        }

        var query = db.NotificationMessages.AsNoTracking();
        if (tenantId is not null)
        {
            query = query.Where(m => m.TenantId == tenantId);
        }
        if (statusFilter is { } s)
        {
            query = query.Where(m => m.Status == s);
        }
        if (after is { } position)
        {
            query = query.Where(m => m.CreatedAt < position.CreatedAt || (m.CreatedAt == position.CreatedAt && string.Compare(m.Id, position.Id) < 0));
        }
        var page = await query.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(pageSize + 1).ToListAsync(context.RequestAborted);
        var shown = page.Take(pageSize).ToList();
        var ids = shown.Select(m => m.Id).ToList();
        var attempts = (await db.NotificationAttempts.AsNoTracking().Where(a => ids.Contains(a.MessageId)).ToListAsync(context.RequestAborted))
            .ToLookup(a => a.MessageId);
        var conversationKeys = shown.Select(m => m.ConversationId).Distinct().ToList();
        var publicIds = await db.Conversations.AsNoTracking().Where(c => conversationKeys.Contains(c.Id))
            .ToDictionaryAsync(c => c.Id, c => c.TavusId ?? c.Id, context.RequestAborted);
        var data = shown.Select(m => new NotificationMessageResponse(m.Id, m.TenantId, m.EventType, publicIds.GetValueOrDefault(m.ConversationId, m.ConversationId),
            m.Status, m.CreatedAt, m.NextAttemptAt, m.DeliveredAt,
            attempts[m.Id].OrderBy(a => a.Number).Select(NotificationAttemptResponse.From).ToList())).ToList();
        var next = page.Count > pageSize ? EncodeCursor(shown[^1]) : null;
        return TypedResults.Ok(new NotificationMessagePage(data, next));
    }

    private static async Task<Results<Accepted<NotificationMessageResponse>, ProblemHttpResult>> RetryAsync(
        string id, HttpContext context, OrchestratorDbContext db, IDatabaseDialect dialect, TimeProvider time, IOptions<NotificationsOptions> options,
        OutboxSignal signal)
    {
        var tenantId = context.User.TenantScope();
        var now = time.GetUtcNow().UtcDateTime;
        var message = id.Length > 40 ? null
            : await db.NotificationMessages.AsNoTracking()
                .FirstOrDefaultAsync(m => m.Id == id && (tenantId == null || m.TenantId == tenantId), context.RequestAborted);
        if (message is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Message not found",
                detail: $"No notification message '{Problems.Quote(id)}'{(tenantId is null ? "" : " for this tenant")}.");
        }
        // A failed message gets one attempt; a pending one keeps what is left of its schedule.
        var step = message.Status == MessageStatus.Pending ? message.ScheduleStep : options.Value.Schedule.Count;
        int updated;
        using (await dialect.EnterWriteAsync(context.RequestAborted))
        {
            updated = await db.NotificationMessages.Where(m => m.Id == id && (m.ClaimedUntil == null || m.ClaimedUntil <= now))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.Status, MessageStatus.Pending)
                    .SetProperty(m => m.NextAttemptAt, now)
                    .SetProperty(m => m.ScheduleStep, step), context.RequestAborted);
        }
        if (updated == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Attempt in flight",
                detail: "An attempt at this message is being made now; read the message log in a moment.");
        }
        signal.Raise();
        var response = new NotificationMessageResponse(message.Id, message.TenantId, message.EventType, message.ConversationId, MessageStatus.Pending,
            message.CreatedAt, now, message.DeliveredAt, []);
        return TypedResults.Accepted(tenantId is null ? "/admin/notifications/messages?status=pending" : "/tenant/notifications/messages?status=pending", response);
    }

    private static async Task<Results<Accepted<RecoverResponse>, ValidationProblem>> RecoverAsync(
        RecoverRequest request, HttpContext context, OrchestratorDbContext db, IDatabaseDialect dialect, TimeProvider time,
        IOptions<NotificationsOptions> options, OutboxSignal signal)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var since = request.Since?.ToUniversalTime();
        var until = request.Until?.ToUniversalTime() ?? now;
        var errors = new Dictionary<string, string[]>();
        if (since is null)
        {
            errors["since"] = ["since is required."];
        }
        else if (since < now - RecoverWindow)
        {
            errors["since"] = [$"since may be at most {RecoverWindow.TotalDays:0} days back."];
        }
        else if (until <= since)
        {
            errors["until"] = ["until must be after since."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid recovery window.");
        }
        var tenantId = context.User.TenantId();
        var step = options.Value.Schedule.Count;
        int count;
        using (await dialect.EnterWriteAsync(context.RequestAborted))
        {
            count = await db.NotificationMessages
                .Where(m => m.TenantId == tenantId && m.Status == MessageStatus.Failed && m.CreatedAt >= since && m.CreatedAt <= until)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.Status, MessageStatus.Pending)
                    .SetProperty(m => m.NextAttemptAt, now)
                    .SetProperty(m => m.ScheduleStep, step), context.RequestAborted);
        }
        signal.Raise();
        return TypedResults.Accepted("/tenant/notifications/messages?status=pending", new RecoverResponse(count));
    }

    private static string EncodeCursor(NotificationMessage m) =>
        ApiKeys.Base64Url(Encoding.UTF8.GetBytes($"{m.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture)}|{m.Id}"));

    private static (DateTime CreatedAt, string Id)? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|', 2);
            // A cursor is the client's input like any other: a crafted one may hold any number.
            return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTime.MaxValue.Ticks && parts[1].Length is > 0 and <= 40 && TextRules.IsStorable(parts[1])
                ? (new DateTime(ticks, DateTimeKind.Utc), parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
