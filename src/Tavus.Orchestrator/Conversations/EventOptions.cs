using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Conversations;

/// <summary>The <c>Events</c> section: how events are written and streamed.</summary>
public sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>Events waiting for the writer; past this a callback is answered 503 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>At most this many events are committed in one transaction.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>
    /// SQLite: after about this many bytes written to the WAL by the writer, a thread of its own copies the WAL
    /// back into the database file (a checkpoint), so that the writer, and every callback waiting
    /// for its commit, does not stop for it. 0 leaves checkpoints to SQLite, which runs them inside
    /// the writer's commits (every 1000 pages).
    /// </summary>
    [Range(0, 1L << 30)]
    public long CheckpointBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Live event streams one tenant may hold open at once; past it, 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxStreamsPerTenant { get; set; } = 1000;

    /// <summary>How long a stream stays open after the end, waiting for the transcript.</summary>
    [Range(0, 3600)]
    public int TranscriptWaitSeconds { get; set; } = 60;

    /// <summary>
    /// A quiet live stream sends a comment line this often, so that proxies and load balancers do
    /// not close it as idle.
    /// </summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = 15;
}
