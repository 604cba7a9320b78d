using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Webhooks;

public static class WebhookApi
{
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhooksOptions>().BindConfiguration(WebhooksOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<WebhooksOptions>, CallbackAddressRules>();
        builder.Services.AddSingleton<IValidateOptions<WebhooksOptions>, CallbackAddressRules>();
        builder.Services.AddSingleton<CallbackTargets>();
        builder.Services.AddSingleton<CallbackReceiver>();
        return builder;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        // The receiver's services are all singletons, taken once here: a handler that asks each
        // request for them creates the request's service scope for nothing. (A Func, not a
        // RequestDelegate, so that its typed results describe the route and are written.)
        Func<HttpContext, Task<Results<WebhookAckResult, ProblemHttpResult>>> receive =
            app.ServiceProvider.GetRequiredService<CallbackReceiver>().ReceiveAsync;
        app.MapPost("/webhook", receive)
            .WithName("ReceiveCallback")
            .WithTags("Tavus callbacks")
            .AllowAnonymous()
            .WithMetadata(ChecksItsOwnCallers.Instance)
            // A stored callback is logged in its commit's line by the event writer.
            .WithMetadata(SuccessLoggedElsewhere.Instance)
            .WithSummary("Receives a Tavus callback for a conversation's callback_url.")
            .WithDescription("Authenticated by the token the orchestrator put into that conversation's callback_url. " +
                "Answers 200 only after the event is committed; a repeated delivery answers status 'duplicate'.")
            .Accepts<TavusCallback>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
