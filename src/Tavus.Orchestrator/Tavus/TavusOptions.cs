using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Tavus;

/// <summary>How to reach Tavus. With no ApiKey the built-in simulator stands in for it.</summary>
public sealed class TavusOptions
{
    public const string Section = "Tavus";

    [Required, Url]
    public string BaseUrl { get; set; } = "https://tavusapi.com";

    public string ApiKey { get; set; } = "";

    /// <summary>One HTTP attempt's limit; reads and ends are retried within the total.</summary>
    [Range(1, 300)]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    [Range(1, 600)]
    public int TotalTimeoutSeconds { get; set; } = 30;

    /// <summary>The largest answer read from Tavus; past it the call fails as if Tavus were unavailable.</summary>
    [Range(64 * 1024, 1L << 30)]
    public long MaxAnswerBytes { get; set; } = 16 * 1024 * 1024;

    public bool UseSimulator => string.IsNullOrEmpty(ApiKey);
}
