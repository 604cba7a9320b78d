using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// Standard Webhooks signatures: <c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>,
/// keyed with the secret's decoded bytes. Proven against the specification's test vector
/// (SigningTests), and checked in tests by another implementation (the StandardWebhooks package).
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The <c>webhook-signature</c> header: one <c>v1,…</c> per secret, space-separated (two during a rotation).</summary>
    public static string Sign(IEnumerable<string> secrets, string messageId, long timestamp, string body) =>
        string.Join(' ', secrets.Select(secret => Sign(secret, messageId, timestamp, body)));

    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signed = Encoding.UTF8.GetBytes($"{messageId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}

/// <summary>
/// Keeps endpoint secrets with ASP.NET Core Data Protection: the service needs the secret itself
/// to sign (unlike an API key, which only needs a hash), so the database holds it protected by keys
/// kept apart from it (<see cref="NotificationsOptions.KeysPath"/>).
/// </summary>
public sealed class EndpointSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Tavus.Orchestrator.Notifications.EndpointSecret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string stored) => _protector.Unprotect(stored);

    /// <summary>The secrets to sign with now: the current one, and the previous one during its 24 h overlap.</summary>
    public IReadOnlyList<string> SigningSecrets(NotificationEndpoint endpoint, DateTime now) =>
        endpoint.PreviousProtectedSecret is { } previous && endpoint.PreviousSecretExpiresAt > now
            ? [Unprotect(endpoint.ProtectedSecret), Unprotect(previous)]
            : [Unprotect(endpoint.ProtectedSecret)];
}
