using System.Text.Json.Serialization;

namespace Tavus.Simulator.Control;

/// <summary>
/// The faults the simulator injects; <c>PUT /control/faults</c> replaces them as a whole. Names are
/// spelled out so that a host's OpenAPI document, written with the host's JSON options, shows them right.
/// </summary>
internal sealed record FaultSettings(
    [property: JsonPropertyName("create_error_rate")] double CreateErrorRate = 0,
    [property: JsonPropertyName("latency_ms")] int LatencyMs = 0,
    [property: JsonPropertyName("duplicate_rate")] double DuplicateRate = 0,
    [property: JsonPropertyName("reorder")] bool Reorder = false,
    [property: JsonPropertyName("drop_rate")] double DropRate = 0,
    [property: JsonPropertyName("seed")] int? Seed = null)
{
    public const int MaxLatencyMs = 120_000;

    public static FaultSettings None { get; } = new();

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        AddRateError(errors, "create_error_rate", CreateErrorRate);
        AddRateError(errors, "duplicate_rate", DuplicateRate);
        AddRateError(errors, "drop_rate", DropRate);
        if (LatencyMs is < 0 or > MaxLatencyMs)
        {
            errors["latency_ms"] = [$"latency_ms must be between 0 and {MaxLatencyMs}."];
        }

        return errors;
    }

    private static void AddRateError(Dictionary<string, string[]> errors, string name, double rate)
    {
        // The pattern also refuses NaN.
        if (rate is not (>= 0 and <= 1))
        {
            errors[name] = [$"{name} must be between 0 and 1."];
        }
    }
}

/// <summary>What happens to one callback.</summary>
internal readonly record struct CallbackFaults(bool Drop, bool Duplicate, bool Hold);

/// <summary>Rolls the dice for injected faults; a seed makes the rolls repeat from one run to the next.</summary>
internal sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private FaultSettings _settings = FaultSettings.None;
    private Random _random = new();

    public FaultSettings Current
    {
        get
        {
            lock (_gate)
            {
                return _settings;
            }
        }
    }

    public void Set(FaultSettings settings)
    {
        lock (_gate)
        {
            _settings = settings;
            _random = settings.Seed is int seed ? new Random(seed) : new Random();
        }
    }

    public bool ShouldFailCreate()
    {
        lock (_gate)
        {
            return Roll(_settings.CreateErrorRate);
        }
    }

    public CallbackFaults ForCallback()
    {
        lock (_gate)
        {
            var drop = Roll(_settings.DropRate);
            var duplicate = !drop && Roll(_settings.DuplicateRate);
            return new CallbackFaults(drop, duplicate, _settings.Reorder);
        }
    }

    // Rates of 0 and 1 draw nothing, so a seeded sequence only advances for real coin flips.
    private bool Roll(double rate) => rate switch
    {
        <= 0 => false,
        >= 1 => true,
        _ => _random.NextDouble() < rate,
    };
}
