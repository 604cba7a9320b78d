using System.Net.Http.Json;

namespace Tavus.Orchestrator.Tests;

public static class Faults
{
    /// <summary>Sets the simulator's fault injection (PUT /control/faults).</summary>
    public static async Task SetFaultsAsync(this OrchestratorFactory factory, double createErrorRate = 0, int latencyMs = 0,
        double duplicateRate = 0, bool reorder = false, double dropRate = 0)
    {
        using var simulator = factory.CreateSimulatorClient();
        var response = await simulator.PutAsJsonAsync("control/faults", new
        {
            create_error_rate = createErrorRate,
            latency_ms = latencyMs,
            duplicate_rate = duplicateRate,
            reorder,
            drop_rate = dropRate,
            seed = 42,
        });
        response.EnsureSuccessStatusCode();
    }
}
