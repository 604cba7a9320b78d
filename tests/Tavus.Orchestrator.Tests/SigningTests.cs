using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>Our Standard Webhooks signer against the specification's test vector and another implementation (the StandardWebhooks package).</summary>
public sealed class SigningTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string Body = """{"test": 2432232314}""";

    [Fact]
    public void The_signer_reproduces_the_specification_test_vector() =>
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", WebhookSigner.Sign(Secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, Body));

    [Fact]
    public void Another_implementation_verifies_our_signature_and_refuses_a_tampered_body_or_stale_timestamp()
    {
        var verifier = new StandardWebhook(Secret);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        verifier.Verify(Body, Headers("msg_1", now, WebhookSigner.Sign([Secret], "msg_1", now, Body)));

        Assert.Throws<WebhookVerificationException>(() =>
            verifier.Verify("""{"test": 2432232315}""", Headers("msg_1", now, WebhookSigner.Sign([Secret], "msg_1", now, Body))));
        var stale = now - 600;
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(Body, Headers("msg_1", stale, WebhookSigner.Sign([Secret], "msg_1", stale, Body))));
    }

    [Fact]
    public void During_a_rotation_either_secret_verifies_the_two_signatures()
    {
        var next = WebhookSigner.NewSecret();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign([next, Secret], "msg_2", now, Body);
        Assert.Equal(2, signature.Split(' ').Length);
        // The package checks only the first of several signatures (its loop compares the whole header
        // for the last entry), so each entry is handed to it on its own.
        new StandardWebhook(next).Verify(Body, Headers("msg_2", now, signature.Split(' ')[0]));
        new StandardWebhook(Secret).Verify(Body, Headers("msg_2", now, signature.Split(' ')[1]));
        new StandardWebhook(next).Verify(Body, Headers("msg_2", now, signature));
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(WebhookSigner.NewSecret()).Verify(Body, Headers("msg_2", now, signature)));
    }

    [Fact]
    public void New_secrets_are_whsec_and_base64_of_32_random_bytes()
    {
        var secret = WebhookSigner.NewSecret();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.NotEqual(secret, WebhookSigner.NewSecret());
    }

    internal static HeaderDictionary Headers(string id, long timestamp, string signature) => new()
    {
        ["webhook-id"] = id,
        ["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["webhook-signature"] = signature,
    };
}
