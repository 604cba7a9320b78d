using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Reconciliation;

public sealed class ReconciliationOptions
{
    public const string Section = "Reconciliation";

    /// <summary>How often conversations are checked with Tavus.</summary>
    [Range(1, 86400)]
    public int IntervalSeconds { get; set; } = 30;

    /// <summary>How long past its deadline a conversation may run before Tavus is asked (and, if needed, told to end it).</summary>
    [Range(0, 86400)]
    public int GraceSeconds { get; set; } = 120;

    /// <summary>How long a conversation may stay silent before Tavus is asked about it.</summary>
    [Range(1, 864000)]
    public int StaleAfterSeconds { get; set; } = 600;

    /// <summary>
    /// How old a pending conversation (a create whose answer never came) must be before Tavus'
    /// list is searched for it; at least Tavus:TotalTimeoutSeconds and a half-minute more, so a
    /// create still waiting for its answer is left alone.
    /// </summary>
    [Range(1, 86400)]
    public int PendingAfterSeconds { get; set; } = 60;

    /// <summary>How many pages of Tavus' conversations (100 each, newest first) a pass reads looking for pending ones.</summary>
    [Range(1, 1000)]
    public int PendingSearchPages { get; set; } = 10;

    /// <summary>At most this many conversations are checked per pass.</summary>
    [Range(1, 10000)]
    public int BatchSize { get; set; } = 100;
}

public static class ReconciliationExtensions
{
    public static WebApplicationBuilder AddReconciliation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReconciliationOptions>().BindConfiguration(ReconciliationOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Reconciler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Reconciler>());
        return builder;
    }
}
