using System.ComponentModel.DataAnnotations;

namespace Tavus.Simulator;

/// <summary>Settings of the Tavus simulator, bound from the <c>Simulator</c> configuration section.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>The value every caller must send in <c>x-api-key</c>.</summary>
    [Required]
    public string ApiKey { get; set; } = "sim-key";

    /// <summary>How much faster than real time the simulated clock runs: at 60, a 60-second timeout takes one second.</summary>
    [Range(0d, double.MaxValue, MinimumIsExclusive = true)]
    public double TimeScale { get; set; } = 1;

    /// <summary>Simulated seconds between creation and <c>system.replica_joined</c>.</summary>
    [Range(0, 3600)]
    public int ReplicaJoinDelaySeconds { get; set; } = 2;

    /// <summary>Live conversations allowed at once; one more is refused like Tavus refuses it.</summary>
    [Range(1, int.MaxValue)]
    public int MaxConcurrentConversations { get; set; } = 100;

    /// <summary>
    /// Simulated seconds an ended conversation stays readable (GET, list, deliveries) before the
    /// simulator forgets it and answers 404, as Tavus does for a deleted one. Simulated, like every
    /// other duration here, so the time scale shortens it too: at 60 the default lasts one real minute.
    /// 0 forgets a conversation as soon as it ends.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int RetainEndedSeconds { get; set; } = 3600;

    /// <summary>Base of the <c>conversation_url</c> handed out (a Daily room at Tavus).</summary>
    [Required]
    [Url]
    public string RoomBaseUrl { get; set; } = "https://tavus.daily.co";
}
