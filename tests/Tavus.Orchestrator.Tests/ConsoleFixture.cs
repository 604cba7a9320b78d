using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// A host for the operator console's browser tests: Debian's chromium (Playwright cannot download
/// its own here) driving the page through a <see cref="KestrelGateway"/>. The service's clock
/// starts at the real time, and each page's clock is set to it, so countdowns read as they would.
/// </summary>
public sealed class ConsoleFixture() : OrchestratorFixture(null, new FakeTimeProvider(DateTimeOffset.UtcNow))
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }

    public KestrelGateway? Gateway { get; private set; }

    /// <summary>Where screenshots go: the test project's TestResults folder (git-ignored).</summary>
    public static string ScreenshotFolder
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Tavus.Orchestrator.Tests.csproj")))
            {
                folder = folder.Parent;
            }
            return Path.Combine(folder?.FullName ?? AppContext.BaseDirectory, "TestResults");
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (!File.Exists(Chromium))
        {
            // BrowserFact skips the tests, or under CI=true lets them fail in NewPageAsync with the reason.
            return;
        }
        Gateway = await KestrelGateway.StartAsync(Factory.Server.CreateHandler());
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Root in a container has no user namespace for chromium's sandbox.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh page (its own sessionStorage) of the given size, its clock at the service's.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        if (Browser is null)
        {
            throw new InvalidOperationException($"The console's browser tests need chromium at {Chromium}: apt-get install -y chromium (.ci/run does).");
        }
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Gateway!.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        await page.Clock.InstallAsync(new ClockInstallOptions { TimeDate = Factory.Time.GetUtcNow().UtcDateTime });
        return page;
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>
/// A browser test: skipped, with the reason, where chromium is not installed — except under
/// <c>CI=true</c>, where it runs and fails loudly, so a CI without the browser cannot pass silently.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(ConsoleFixture.Chromium) && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = $"chromium is not installed at {ConsoleFixture.Chromium} (apt-get install -y chromium); under CI=true this test fails instead.";
        }
    }
}
