namespace Tavus.Simulator;

/// <summary>
/// The simulator on its own, so that several orchestrator instances can share one Tavus. A class
/// rather than top-level statements: the orchestrator references this assembly and has its own <c>Program</c>.
/// </summary>
public sealed class Program
{
    /// <summary>Where the simulator listens when neither ASPNETCORE_URLS nor --urls says otherwise.</summary>
    public const string DefaultUrl = "http://localhost:5090";

    public static void Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (!HasConfiguredEndpoints(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddTavusSimulator();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapTavusSimulator();
        app.Run();
    }

    private static bool HasConfiguredEndpoints(ConfigurationManager configuration) =>
        !string.IsNullOrEmpty(configuration["urls"])
        || !string.IsNullOrEmpty(configuration["http_ports"])
        || !string.IsNullOrEmpty(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").Exists();
}
