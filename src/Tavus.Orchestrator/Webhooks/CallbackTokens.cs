using System.Security.Cryptography;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>
/// Tavus signs nothing, so each conversation's callback_url carries a random token of its own;
/// only its SHA-256 is stored, and a callback is accepted only with the token of the conversation it names.
/// </summary>
public static class CallbackTokens
{
    public static string Generate() => ApiKeys.Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => ApiKeys.Hash(token);

    public static string CallbackUrl(string publicBaseUrl, string token) =>
        $"{publicBaseUrl.TrimEnd('/')}/webhook?token={token}";
}
