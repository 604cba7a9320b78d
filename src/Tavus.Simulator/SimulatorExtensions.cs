using Microsoft.Extensions.DependencyInjection.Extensions;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Control;
using Tavus.Simulator.Conversations;
using Tavus.Simulator.Hosting;

namespace Tavus.Simulator;

/// <summary>Adds the simulator to a host: on its own (<see cref="Program"/>) or mounted inside the orchestrator.</summary>
public static class SimulatorExtensions
{
    /// <summary>The callback client's timeout: a receiver that hangs must not hold a conversation's queue for long.</summary>
    internal static readonly TimeSpan CallbackTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Registers the simulator's options (section <c>Simulator</c>), its in-memory state and its callback client.</summary>
    public static IServiceCollection AddTavusSimulator(this IServiceCollection services)
    {
        services.AddOptions<SimulatorOptions>()
            .BindConfiguration(SimulatorOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FaultInjector>();
        services.TryAddSingleton<CallbackSender>();
        services.TryAddSingleton<ConversationStore>();
        // No retry handler: Tavus documents none, and receivers must cope with a missing callback.
        services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName, client => client.Timeout = CallbackTimeout);
        return services;
    }

    /// <summary>
    /// Maps the Tavus API stand-in (<c>/v2/conversations…</c>) and its control routes (<c>/control…</c>)
    /// under <paramref name="prefix"/>. Every route wants the configured key in <c>x-api-key</c>.
    /// </summary>
    public static RouteGroupBuilder MapTavusSimulator(this IEndpointRouteBuilder app, string prefix = "")
    {
        var simulator = app.MapGroup(prefix)
            // The simulator checks its own key; a host's authorization policy is not its business.
            .AllowAnonymous()
            .AddEndpointFilter<ApiKeyFilter>()
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(TavusMessage), ["application/json"]));
        simulator.MapConversationsApi();
        simulator.MapControlApi();
        return simulator;
    }
}
