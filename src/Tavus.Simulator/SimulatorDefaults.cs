namespace Tavus.Simulator;

/// <summary>Names the simulator shares with its host.</summary>
public static class SimulatorDefaults
{
    /// <summary>The <see cref="IHttpClientFactory"/> client that posts callbacks; a test can swap its primary handler.</summary>
    public const string CallbackHttpClientName = "Tavus.Simulator.Callbacks";
}
