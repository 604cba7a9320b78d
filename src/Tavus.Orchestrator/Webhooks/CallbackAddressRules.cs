using System.Net;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Tavus;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>
/// <c>Webhooks:PublicBaseUrl</c> must be an address Tavus can reach. With Tavus on another machine,
/// an unset or loopback address would send every callback nowhere, silently, so the service does not
/// start. With Tavus on this machine (the built-in simulator, or a standalone one on loopback) a
/// loopback address works, and an unset one is this service's own address.
/// </summary>
internal sealed class CallbackAddressRules(IOptions<TavusOptions> tavus, IConfiguration configuration)
    : IPostConfigureOptions<WebhooksOptions>, IValidateOptions<WebhooksOptions>
{
    public const string Key = $"{WebhooksOptions.Section}:{nameof(WebhooksOptions.PublicBaseUrl)}";

    /// <summary>Where <c>dotnet run</c> listens when <c>Urls</c> says nothing.</summary>
    public const string DefaultOwnAddress = "http://localhost:5080";

    public void PostConfigure(string? name, WebhooksOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl) && RemoteTavus() is null)
        {
            options.PublicBaseUrl = OwnAddress();
        }
    }

    public ValidateOptionsResult Validate(string? name, WebhooksOptions options)
    {
        var remote = RemoteTavus();
        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            return ValidateOptionsResult.Fail($"{Key} is required: Tavus at {remote} is on another machine and calls back " +
                "to this address. Set it to the absolute http(s) address Tavus reaches this service at.");
        }
        if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return ValidateOptionsResult.Fail($"{Key} must be an absolute http(s) address, the one Tavus reaches this " +
                $"service at; '{options.PublicBaseUrl}' is not.");
        }
        if (remote is not null && OnThisMachine(url))
        {
            return ValidateOptionsResult.Fail($"{Key} '{options.PublicBaseUrl}' is on this machine, but Tavus at {remote} " +
                "is on another one and could not call back. Set it to the address Tavus reaches this service at.");
        }
        return ValidateOptionsResult.Success;
    }

    /// <summary>Tavus' address when a key sends calls to a Tavus off this machine; null when Tavus is on this one.</summary>
    private string? RemoteTavus()
    {
        var options = tavus.Value;
        if (options.UseSimulator)
        {
            return null;
        }
        // A BaseUrl that is no URL is TavusOptions' own validation error; here it counts as remote.
        return Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var url) && OnThisMachine(url) ? null : options.BaseUrl;
    }

    /// <summary>localhost, 127.0.0.0/8, ::1, and the "any" addresses, which only a local client can dial.</summary>
    internal static bool OnThisMachine(Uri url) =>
        url.IsLoopback
        || string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address)
            && (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)));

    /// <summary>The first address of <c>Urls</c>, with a wildcard host (<c>http://+:8080</c>) read as localhost.</summary>
    private string OwnAddress()
    {
        var first = configuration["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        if (first is null)
        {
            return DefaultOwnAddress;
        }
        var builder = new UriBuilder(first.Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0" or "[::]" or "::")
        {
            builder.Host = "localhost";
        }
        return builder.Uri.GetLeftPart(UriPartial.Authority);
    }
}
