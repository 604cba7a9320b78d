using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tavus.Simulator.Conversations;

namespace Tavus.Simulator.Hosting;

/// <summary>Every simulator route, API and control alike, wants the configured key in <c>x-api-key</c>, like Tavus.</summary>
internal sealed class ApiKeyFilter(IOptions<SimulatorOptions> options) : IEndpointFilter
{
    public const string HeaderName = "x-api-key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[HeaderName];
        if (presented.Count != 1 || !Matches(presented[0], options.Value.ApiKey))
        {
            return SimulatorResults.Json(new TavusMessage("Invalid access token"), StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    private static bool Matches(string? presented, string expected) =>
        presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
