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

    /// <summary>Our tokens are 43 characters; anything much longer is not one and is not hashed.</summary>
    public const int MaxTokenLength = 128;

    private const string Parameter = "token=";

    public static string Hash(string token) => ApiKeys.Hash(token);

    /// <summary>
    /// The stored hash of the token in a callback URL's query string (with or without its '?'),
    /// read in place, without parsing the query into a collection or the token into a string of
    /// its own; null when the query has no <c>token</c>, an empty one, one too long to be ours, or
    /// more than one (which is meant is not guessed). A percent-encoded token is decoded first.
    /// </summary>
    public static string? HashFromQuery(ReadOnlySpan<char> query)
    {
        query = query.StartsWith('?') ? query[1..] : query;
        ReadOnlySpan<char> token = default;
        var found = false;
        foreach (var range in query.Split('&'))
        {
            var parameter = query[range];
            if (parameter.StartsWith(Parameter, StringComparison.Ordinal))
            {
                if (found)
                {
                    return null;
                }
                token = parameter[Parameter.Length..];
                found = true;
            }
        }
        if (token.Length > 3 * MaxTokenLength)
        {
            return null; // too long even as %XX for every character: not decoded
        }
        if (token.Contains('%'))
        {
            token = Uri.UnescapeDataString(token.ToString());
        }
        return token.IsEmpty || token.Length > MaxTokenLength ? null : ApiKeys.Hash(token);
    }

    public static string CallbackUrl(string publicBaseUrl, string token) =>
        $"{publicBaseUrl.TrimEnd('/')}/webhook?token={token}";
}
