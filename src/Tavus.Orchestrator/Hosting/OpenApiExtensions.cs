using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// The OpenAPI document: API key schemes so Swagger UI's Authorize button works, and what
/// Redocly's recommended rules ask for, so client generators take it as it is (.ci/lint-openapi.sh).
/// </summary>
public static class OpenApiExtensions
{
    private const string SimulatorScheme = "SimulatorApiKey";
    private const string SimulatorPath = "tavus-sim/";
    private const string CallbackScheme = "CallbackToken";
    private const string WebhookRoute = "POST /webhook";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Conversations"] = "A tenant's Tavus conversations: create under the tenant's policy, read, end, follow the timeline.",
        ["Tenant"] = "The calling tenant.",
        ["Tenant notifications"] = "A tenant's backend told about its conversations: the endpoint, its signing secret (Standard Webhooks), the delivery log, retry and recovery.",
        ["Admin: tenants"] = "Operators manage tenants, their policies and keys.",
        ["Usage"] = "The calling tenant's conversations, ends and minutes, by UTC day or month; JSON or CSV.",
        ["Admin: usage"] = "Operators read every tenant's usage.",
        ["Admin: conversations"] = "Operators see every tenant's conversations and their live timelines, and end them (the operator console's view).",
        ["Admin: notifications"] = "Operators read every tenant's notification messages and send a failed one again.",
        ["Tavus callbacks"] = "Where Tavus posts a conversation's events (its callback_url).",
        ["Tavus simulator"] = "The built-in Tavus (simulator mode): Tavus' conversation API.",
        ["Tavus simulator control"] = "The built-in Tavus' test controls: participants, faults, sent callbacks.",
        ["Health"] = "Liveness and readiness probes.",
    };

    /// <summary>Request examples, by "METHOD /route", shown and pre-filled by Swagger UI.</summary>
    private static readonly Dictionary<string, string> Examples = new()
    {
        ["POST /conversations"] = """
            {
              "persona_id": "pcb7a34da5fe",
              "replica_id": "rf4e9d9790f0",
              "conversation_name": "Improve Sales Technique",
              "conversational_context": "I want to improve my sales techniques.",
              "custom_greeting": "Hi!",
              "properties": { "max_call_duration": 1800, "participant_left_timeout": 60, "participant_absent_timeout": 120 }
            }
            """,
        ["POST /admin/tenants"] = """
            {
              "id": "acme",
              "name": "Acme sales training",
              "policy": {
                "max_call_duration": { "default": 1800, "min": 60, "max": 3600 },
                "participant_left_timeout": { "default": 60, "min": 0, "max": 600 },
                "participant_absent_timeout": { "default": 300, "min": 0, "max": 900 },
                "max_concurrent_conversations": 10,
                "max_minutes_per_month": 30000,
                "enforcement": "reject"
              }
            }
            """,
        ["PUT /admin/tenants/{id}/policy"] = """
            {
              "max_call_duration": { "default": 900, "min": 60, "max": 1800 },
              "participant_left_timeout": { "default": 30, "min": 0, "max": 300 },
              "participant_absent_timeout": { "default": 120, "min": 0, "max": 600 },
              "max_concurrent_conversations": 5,
              "enforcement": "clamp"
            }
            """,
        ["POST /webhook"] = """
            {
              "properties": { "replica_id": "rf4e9d9790f0", "shutdown_reason": "participant_left_timeout reached" },
              "conversation_id": "ca4301628cb9",
              "webhook_url": "https://orchestrator.example/webhook",
              "event_type": "system.shutdown",
              "message_type": "system",
              "timestamp": "2025-07-11T07:15:47.472000Z"
            }
            """,
        ["PUT /tavus-sim/control/faults"] = """
            { "create_error_rate": 0, "latency_ms": 0, "duplicate_rate": 0.5, "reorder": false, "drop_rate": 0 }
            """,
    };

    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            // The mounted simulator has types of the same names (its CreateConversationRequest is
            // Tavus', with callback_url): its schemas get a prefix so neither replaces the other.
            // A JsonElement (an event's properties, a transcript) is any JSON, kept as Tavus sent it: an
            // inline schema that allows anything, not a component named JsonElement that generators
            // turn into an empty class.
            options.CreateSchemaReferenceId = type => (Nullable.GetUnderlyingType(type.Type) ?? type.Type) == typeof(System.Text.Json.JsonElement) ? null
                : OpenApiOptions.CreateDefaultSchemaReferenceId(type) is { } id &&
                type.Type.Namespace?.StartsWith("Tavus.Simulator", StringComparison.Ordinal) == true ? "Simulator" + id
                : OpenApiOptions.CreateDefaultSchemaReferenceId(type);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Tavus Orchestrator",
                    Version = "v1",
                    Description = "Creates and tracks Tavus conversations for internal frontends (tenants). " +
                        "Tenants authorize with X-Api-Key (in simulator mode: demo-key), operators with X-Admin-Key.",
                    // The repository has no LICENSE file: no rights are granted until its owners choose one.
                    // LicenseRef- is SPDX's form for a license not on its list.
                    License = new OpenApiLicense { Name = "Proprietary", Identifier = "LicenseRef-Proprietary" },
                };
                // The server is the request's base URL, which ends with a slash; paths start with one.
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = server.Url?.TrimEnd('/') is { Length: > 0 } url ? url : "/";
                }
                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    if (tag.Name is not null && TagDescriptions.TryGetValue(tag.Name, out var description))
                    {
                        tag.Description = description;
                    }
                }
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[AuthSchemes.Tenant] = HeaderKey(AuthSchemes.TenantHeader, "A tenant's API key.");
                document.Components.SecuritySchemes[AuthSchemes.Admin] = HeaderKey(AuthSchemes.AdminHeader, "The operator key (Admin:ApiKey).");
                document.Components.SecuritySchemes[SimulatorScheme] = HeaderKey("x-api-key",
                    "The built-in simulator's key (Simulator:ApiKey, default sim-key), as Tavus wants its own.");
                document.Components.SecuritySchemes[CallbackScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Query,
                    Name = "token",
                    Description = "The per-conversation token the orchestrator put into the callback_url it gave Tavus.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var route = $"{context.Description.HttpMethod} /{context.Description.RelativePath?.TrimEnd('/')}";
                if (Examples.TryGetValue(route, out var example) &&
                    operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true)
                {
                    media.Example = JsonNode.Parse(example);
                }
                var policy = context.Description.ActionDescriptor.EndpointMetadata
                    .OfType<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null);
                if (context.Description.RelativePath?.StartsWith(SimulatorPath, StringComparison.Ordinal) == true)
                {
                    policy = SimulatorScheme;
                }
                if (route == WebhookRoute)
                {
                    // The token is the callback's credential, stated as its security scheme.
                    policy = CallbackScheme;
                }
                if (policy is AuthSchemes.Tenant or AuthSchemes.Admin or SimulatorScheme or CallbackScheme)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(policy, context.Document)] = [],
                    });
                }
                return Task.CompletedTask;
            });
        });

    private static OpenApiSecurityScheme HeaderKey(string header, string description) => new()
    {
        Type = SecuritySchemeType.ApiKey,
        In = ParameterLocation.Header,
        Name = header,
        Description = description,
    };
}
