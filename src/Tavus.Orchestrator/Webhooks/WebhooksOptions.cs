using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Webhooks;

public sealed class WebhooksOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// The address Tavus reaches this service at; callback URLs are built from it. Required with a
    /// Tavus on another machine; otherwise it defaults to this service's own address (see <see cref="CallbackAddressRules"/>).
    /// </summary>
    public string PublicBaseUrl { get; set; } = "";

    /// <summary>Larger callback bodies are refused with 413. Transcripts are often over 10 KB.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 4 * 1024 * 1024;
}
