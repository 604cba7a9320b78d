using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Notifications;

/// <summary>Tenant notifications: the endpoint routes, and the services that fill and send the outbox.</summary>
public static partial class NotificationsApi
{
    public const string Tag = "Tenant notifications";

    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationsOptions>().BindConfiguration(NotificationsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart()
            // Simulator mode runs on one machine, receivers included; anywhere else a private address is refused unless allowed.
            .PostConfigure<IOptions<TavusOptions>>((notifications, tavus) => notifications.AllowPrivateNetworks ??= tavus.Value.UseSimulator);

        var keys = builder.Configuration[$"{NotificationsOptions.Section}:{nameof(NotificationsOptions.KeysPath)}"] is { Length: > 0 } configured
            ? configured
            : DatabaseExtensions.SqliteFolder(builder.Configuration) is { } folder ? Path.Combine(folder, "keys") : null;
        var protection = builder.Services.AddDataProtection().SetApplicationName("Tavus.Orchestrator");
        if (keys is not null)
        {
            protection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }
        builder.Services.AddSingleton<EndpointSecrets>();
        builder.Services.TryAddSingleton<INotificationObserver, NoNotificationObserver>();

        builder.Services.AddHttpClient<NotificationSender>((services, client) =>
            {
                // The per-attempt deadline is the dispatcher's (on TimeProvider); this only backs it up.
                client.Timeout = services.GetRequiredService<IOptions<NotificationsOptions>>().Value.AttemptTimeout * 2;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Tavus-Orchestrator-Notifications/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(services =>
            {
                var allowPrivate = services.GetRequiredService<IOptions<NotificationsOptions>>().Value.AllowPrivateNetworks == true;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    // A proxy would be the address connected to, and the guard would check it instead of the endpoint.
                    UseProxy = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectCallback = (context, cancellationToken) => AddressGuard.ConnectAsync(context, allowPrivate, cancellationToken),
                };
            });
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<NotificationDispatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<NotificationDispatcher>());
        return builder;
    }

    public static IEndpointRouteBuilder MapNotifications(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/tenant/notifications")
            .WithTags(Tag)
            .RequireAuthorization(AuthSchemes.Tenant)
            .RequireRateLimiting(RateLimits.TenantPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        tenant.MapPut("", (NotificationEndpointRequest request, HttpContext context, OrchestratorDbContext db, EndpointSecrets secrets,
                TimeProvider time, IOptions<NotificationsOptions> options) =>
                SetAsync(context.User.TenantId(), request, db, secrets, time, options.Value, context.RequestAborted))
            .WithName("SetNotificationEndpoint")
            .WithSummary("Set the tenant's notification endpoint; the first time the answer carries its signing secret, shown once.")
            .WithDescription("The url must be https and resolve to a public address unless Notifications:AllowPrivateNetworks. " +
                "event_types left out: every type. Messages are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        tenant.MapGet("", GetAsync)
            .WithName("GetNotificationEndpoint")
            .WithSummary("The tenant's notification endpoint, never its secret.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        tenant.MapDelete("", DeleteAsync)
            .WithName("DeleteNotificationEndpoint")
            .WithSummary("Stop sending: the endpoint and its secret are removed; messages not yet sent fail.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        tenant.MapPost("/secret", RotateAsync)
            .WithName("RotateNotificationSecret")
            .WithSummary("Rotate the signing secret: the new one is shown once; for 24 h messages carry both signatures.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        tenant.MapNotificationMessages();

        app.MapPut("/admin/tenants/{id}/notifications", SetForTenantAsync)
            .WithName("SetTenantNotificationEndpoint")
            .WithTags("Admin: tenants")
            .RequireAuthorization(AuthSchemes.Admin)
            .WithSummary("Set a tenant's notification endpoint, as the tenant would; the first time the answer carries the secret.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Ok<NotificationEndpointResponse>, ValidationProblem, ProblemHttpResult>> SetForTenantAsync(
        string id, NotificationEndpointRequest request, OrchestratorDbContext db, EndpointSecrets secrets, TimeProvider time,
        IOptions<NotificationsOptions> options, CancellationToken cancellationToken)
    {
        if (id.Length > 64 || !await db.Tenants.AnyAsync(t => t.Id == id, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tenant not found",
                detail: $"No tenant '{Problems.Quote(id)}'.");
        }
        return await SetAsync(id, request, db, secrets, time, options.Value, cancellationToken);
    }

    private static async Task<Results<Ok<NotificationEndpointResponse>, ValidationProblem, ProblemHttpResult>> SetAsync(
        string tenantId, NotificationEndpointRequest request, OrchestratorDbContext db, EndpointSecrets secrets, TimeProvider time,
        NotificationsOptions options, CancellationToken cancellationToken)
    {
        var errors = await NotificationRules.CheckAsync(request, options.AllowPrivateNetworks == true, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid notification endpoint.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        var endpoint = await db.NotificationEndpoints.FirstOrDefaultAsync(e => e.TenantId == tenantId, cancellationToken);
        string? secret = null;
        if (endpoint is null)
        {
            secret = WebhookSigner.NewSecret();
            endpoint = new NotificationEndpoint { TenantId = tenantId, Url = request.Url!, ProtectedSecret = secrets.Protect(secret), CreatedAt = now };
            db.NotificationEndpoints.Add(endpoint);
        }
        endpoint.Url = request.Url!;
        endpoint.EventTypes = request.EventTypes is { } types ? JsonSerializer.Serialize(types.Distinct().ToArray()) : null;
        endpoint.Enabled = request.Enabled ?? true;
        if (endpoint.Enabled)
        {
            endpoint.DisabledReason = null;
            endpoint.FailingSince = null;
        }
        endpoint.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Endpoint being set",
                detail: "Another request set this tenant's endpoint at the same moment; read it and try again.");
        }
        return TypedResults.Ok(NotificationEndpointResponse.From(endpoint, now, secret));
    }

    private static async Task<Results<Ok<NotificationEndpointResponse>, ProblemHttpResult>> GetAsync(
        HttpContext context, OrchestratorDbContext db, TimeProvider time)
    {
        var tenantId = context.User.TenantId();
        var endpoint = await db.NotificationEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.TenantId == tenantId, context.RequestAborted);
        return endpoint is null ? NoEndpoint() : TypedResults.Ok(NotificationEndpointResponse.From(endpoint, time.GetUtcNow().UtcDateTime));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(HttpContext context, OrchestratorDbContext db)
    {
        var tenantId = context.User.TenantId();
        var deleted = await db.NotificationEndpoints.Where(e => e.TenantId == tenantId).ExecuteDeleteAsync(context.RequestAborted);
        return deleted == 0 ? NoEndpoint() : TypedResults.NoContent();
    }

    private static async Task<Results<Ok<NotificationSecretResponse>, ProblemHttpResult>> RotateAsync(
        HttpContext context, OrchestratorDbContext db, EndpointSecrets secrets, TimeProvider time)
    {
        var tenantId = context.User.TenantId();
        var endpoint = await db.NotificationEndpoints.FirstOrDefaultAsync(e => e.TenantId == tenantId, context.RequestAborted);
        if (endpoint is null)
        {
            return NoEndpoint();
        }
        var now = time.GetUtcNow().UtcDateTime;
        var secret = WebhookSigner.NewSecret();
        endpoint.PreviousProtectedSecret = endpoint.ProtectedSecret;
        endpoint.PreviousSecretExpiresAt = now.AddHours(24);
        endpoint.ProtectedSecret = secrets.Protect(secret);
        endpoint.UpdatedAt = now;
        await db.SaveChangesAsync(context.RequestAborted);
        return TypedResults.Ok(new NotificationSecretResponse(secret, endpoint.PreviousSecretExpiresAt.Value));
    }

    internal static ProblemHttpResult NoEndpoint() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No notification endpoint",
            detail: "This tenant has no notification endpoint; set one with PUT /tenant/notifications.");
}
