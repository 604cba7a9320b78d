using System.Security.Cryptography;
using System.Text;

namespace Tavus.Orchestrator.Tenants;

/// <summary>
/// Tenant keys: 256 random bits, so a plain SHA-256 is enough to store them (no dictionary to
/// guess from) and lets a request find its tenant by an indexed lookup.
/// </summary>
public static class ApiKeys
{
    public static string Generate() => "tvo_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Hash(key.AsSpan());

    /// <summary>The stored form of a key: its UTF-8 SHA-256 in lowercase hex (a short key is hashed on the stack).</summary>
    public static string Hash(ReadOnlySpan<char> key)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        var utf8 = maxBytes <= 512 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        return Convert.ToHexStringLower(hash);
    }

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
