namespace Tavus.Orchestrator.Notifications;

/// <summary>What an endpoint request must be: an absolute https URL to a public address, known event types.</summary>
public static class NotificationRules
{
    public const int MaxUrlLength = 2000;

    public static async Task<Dictionary<string, string[]>> CheckAsync(NotificationEndpointRequest request, bool allowPrivate,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Url))
        {
            errors["url"] = ["url is required."];
        }
        else if (request.Url.Length > MaxUrlLength || !Hosting.TextRules.IsStorable(request.Url)
            || !Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            errors["url"] = [$"url must be an absolute https URL of at most {MaxUrlLength} characters."];
        }
        else if (url.Scheme == "http" && !allowPrivate)
        {
            errors["url"] = ["url must be https (plain http only with Notifications:AllowPrivateNetworks)."];
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            errors["url"] = ["url must not carry a user name or password."];
        }
        else if (await AddressGuard.CheckUrlAsync(url, allowPrivate, cancellationToken) is { } refused)
        {
            errors["url"] = [refused];
        }
        if (request.EventTypes is { } types)
        {
            if (types.Count == 0 || types.Count > 50)
            {
                errors["event_types"] = ["event_types, when given, lists between 1 and 50 types; leave it out for every type."];
            }
            else if (types.Where(t => t is null || !NotificationTypes.All.Contains(t)).Select(t => t ?? "null").FirstOrDefault() is { } unknown)
            {
                errors["event_types"] = [$"'{Hosting.Problems.Quote(unknown)}' is not a notification type; known: {string.Join(", ", NotificationTypes.All)}."];
            }
        }
        return errors;
    }
}
