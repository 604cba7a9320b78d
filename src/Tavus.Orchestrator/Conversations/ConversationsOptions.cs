using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Conversations;

/// <summary>The <c>Conversations</c> section.</summary>
public sealed class ConversationsOptions
{
    public const string Section = "Conversations";

    /// <summary>Larger create bodies are refused with 413 before they are parsed.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}
