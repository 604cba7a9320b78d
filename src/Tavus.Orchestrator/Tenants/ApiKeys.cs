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

    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
