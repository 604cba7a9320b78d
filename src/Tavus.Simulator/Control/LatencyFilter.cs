namespace Tavus.Simulator.Control;

/// <summary>
/// Holds /v2 answers back by the injected latency. The delay is wall-clock on purpose (no
/// TimeProvider), so that a caller's real HTTP timeout can fire while the test clock stands still.
/// </summary>
internal sealed class LatencyFilter(FaultInjector faults) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var latencyMs = faults.Current.LatencyMs;
        if (latencyMs > 0)
        {
            await Task.Delay(latencyMs, context.HttpContext.RequestAborted);
        }

        return await next(context);
    }
}
