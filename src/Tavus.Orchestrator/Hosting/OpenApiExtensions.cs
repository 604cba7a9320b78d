using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Tavus.Orchestrator.Hosting;

/// <summary>The OpenAPI document: API key schemes so Swagger UI's Authorize button works.</summary>
public static class OpenApiExtensions
{
    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Tavus Orchestrator",
                    Version = "v1",
                    Description = "Creates and tracks Tavus conversations for internal frontends (tenants). " +
                        "Tenants authorize with X-Api-Key (in simulator mode: demo-key), operators with X-Admin-Key.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[AuthSchemes.Tenant] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = AuthSchemes.TenantHeader,
                    Description = "A tenant's API key.",
                };
                document.Components.SecuritySchemes[AuthSchemes.Admin] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = AuthSchemes.AdminHeader,
                    Description = "The operator key (Admin:ApiKey).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var policy = context.Description.ActionDescriptor.EndpointMetadata
                    .OfType<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null);
                if (policy is AuthSchemes.Tenant or AuthSchemes.Admin)
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
}
