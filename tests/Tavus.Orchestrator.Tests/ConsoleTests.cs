using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tavus.Orchestrator.Tests;

/// <summary>The operator console in chromium: sign-in, the live floor, a live timeline, an end from the page.</summary>
public sealed class ConsoleTests(ConsoleFixture fixture) : IntegrationTests<ConsoleFixture>(fixture)
{
    private readonly ConsoleFixture _fixture = fixture;

    static ConsoleTests() => SetDefaultExpectTimeout(15_000);

    [BrowserFact]
    public async Task An_operator_signs_in_by_keyboard_and_sees_a_conversation_created_through_the_API()
    {
        var page = await _fixture.NewPageAsync();
        await page.GotoAsync("/console");
        // The key field has the focus: type the key and press Enter, no mouse.
        await page.Keyboard.TypeAsync(OrchestratorFactory.AdminKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Live conversations" })).ToBeVisibleAsync();
        Assert.Equal(OrchestratorFactory.AdminKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('tavus-orchestrator.admin-key')"));

        var id = (await Tenant.CreateConversationAsync(new { max_call_duration = 900, participant_absent_timeout = 300 })).Str("conversation_id");

        var row = page.Locator("#live tbody tr", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = $"Open conversation {id}" }) });
        await Expect(row).ToBeVisibleAsync();
        await Expect(row).ToContainTextAsync(Tenant.Id);
        await Expect(row.Locator(".countdown").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^1[45]:\d\d$"));
        await Expect(page.GetByRole(AriaRole.Article, new() { Name = $"Tenant {Tenant.Id}" })).ToContainTextAsync("Live conversations: 1");
        await page.ScreenshotAsync(new() { Path = Screenshot("console-floor.png"), FullPage = true });
    }

    [BrowserFact]
    public async Task A_conversations_timeline_and_status_change_live_as_the_simulator_ends_it()
    {
        var id = (await Tenant.CreateConversationAsync(new { participant_absent_timeout = 120 })).Str("conversation_id");
        var page = await SignedInPageAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = $"Open conversation {id}" }).ClickAsync();
        var detail = page.Locator("#detail");
        await Expect(detail.Locator("#detail-id")).ToHaveTextAsync(id);
        await Expect(detail.Locator(".facts .badge")).ToHaveTextAsync("created");

        await AdvanceAsync(page, TimeSpan.FromSeconds(3));
        await Expect(detail.Locator("#timeline li.replica_joined")).ToBeVisibleAsync();
        await Expect(detail.Locator(".facts .badge")).ToHaveTextAsync("active");

        await AdvanceAsync(page, TimeSpan.FromSeconds(118));
        await Expect(detail.Locator("#timeline li.ended")).ToContainTextAsync("participant_absent_timeout");
        await Expect(detail.Locator(".facts .badge")).ToHaveTextAsync("ended");
        await Expect(detail.Locator(".facts")).ToContainTextAsync("participant_absent_timeout");
        await Expect(detail.GetByRole(AriaRole.Button, new() { Name = "End conversation" })).ToBeHiddenAsync();
        await Expect(page.Locator("#live tbody tr", new() { HasText = id })).ToHaveCountAsync(0);
        await Expect(page.Locator("#ends tbody tr", new() { HasText = id })).ToContainTextAsync("participant_absent_timeout");
        await page.ScreenshotAsync(new() { Path = Screenshot("console-timeline.png"), FullPage = true });

        // Closed from the keyboard, the focus goes back to the conversation's own button.
        await detail.GetByRole(AriaRole.Button, new() { Name = "Close" }).PressAsync("Enter");
        await Expect(detail).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Open conversation {id}" })).ToBeFocusedAsync();
    }

    [BrowserFact]
    public async Task Ending_a_conversation_from_the_page_ends_it_and_the_timeline_names_the_operator()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var page = await SignedInPageAsync();
        page.Dialog += (_, dialog) => dialog.AcceptAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = $"End conversation {id}" }).ClickAsync();

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("ended_by_request", ended.Str("end_reason"));
        Assert.Contains(ended.GetProperty("events").EnumerateArray(), e => e.Str("kind") == "end_requested" && e.Str("source") == "operator");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"End requested for {id}");
        await Expect(page.Locator("#ends tbody tr", new() { HasText = id })).ToContainTextAsync("ended_by_request");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Open conversation {id}" }).ClickAsync();
        await Expect(page.Locator("#timeline li.end_requested")).ToContainTextAsync("operator");
    }

    [BrowserFact]
    public async Task A_failed_notification_is_listed_and_retried_from_the_page()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var path = $"/{Tenant.Id}";
        await Factory.SetEndpointAsync(Tenant, receiver.Url(path), [Notifications.NotificationTypes.Created]);
        receiver.Status[path] = 410;
        await Tenant.CreateConversationAsync();
        var first = (await Factory.DeliveredAsync(receiver, path, 1)).Single();
        var page = await SignedInPageAsync();

        var row = page.Locator("#notifications tbody tr", new() { HasText = first.Id });
        await Expect(row).ToContainTextAsync(Tenant.Id);
        await Expect(row).ToContainTextAsync("410");
        receiver.Status[path] = 200;
        await Factory.SetEndpointAsync(Tenant, receiver.Url(path), [Notifications.NotificationTypes.Created]);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Retry message {first.Id}" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Message {first.Id} will be sent again now.");
        Assert.Equal(first.Id, (await Factory.DeliveredAsync(receiver, path, 2))[1].Id);
        await Expect(row).ToHaveCountAsync(0);
    }

    [BrowserFact]
    public async Task A_wrong_key_is_refused_and_nothing_is_shown_or_kept()
    {
        var page = await _fixture.NewPageAsync();
        await page.GotoAsync("/console");
        await page.GetByLabel("Admin key").FillAsync("not-the-admin-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("refused");
        await Expect(page.Locator("#floor")).ToBeHiddenAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('tavus-orchestrator.admin-key')"));
    }

    [BrowserFact]
    public async Task At_phone_width_the_page_fits_the_screen()
    {
        await Tenant.CreateConversationAsync();
        var page = await SignedInPageAsync(390, 844);
        await Expect(page.Locator("#live tbody tr").First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Article, new() { Name = $"Tenant {Tenant.Id}" })).ToBeVisibleAsync();

        await page.ScreenshotAsync(new() { Path = Screenshot("console-phone.png"), FullPage = true });
        // Wide tables scroll inside their own region; nothing else may stick out of the screen.
        var sticking = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('body *')]
                .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`)
            """);
        Assert.Empty(sticking);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");
    }

    [BrowserFact]
    public async Task The_page_is_served_with_a_policy_that_allows_only_its_own_files()
    {
        var page = await _fixture.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        var response = await page.GotoAsync("/console/");
        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        await Expect(page.GetByLabel("Admin key")).ToBeFocusedAsync();
        Assert.Empty(errors);
    }

    private async Task<IPage> SignedInPageAsync(int width = 1280, int height = 800)
    {
        var page = await _fixture.NewPageAsync(width, height);
        await page.GotoAsync("/console");
        await page.GetByLabel("Admin key").FillAsync(OrchestratorFactory.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Live conversations" })).ToBeVisibleAsync();
        return page;
    }

    /// <summary>Moves the service's clock (and with it the simulator's timers) and the page's alike.</summary>
    private async Task AdvanceAsync(IPage page, TimeSpan by)
    {
        Factory.Time.Advance(by);
        await page.Clock.FastForwardAsync((long)by.TotalMilliseconds);
    }

    private static string Screenshot(string name)
    {
        Directory.CreateDirectory(ConsoleFixture.ScreenshotFolder);
        return Path.Combine(ConsoleFixture.ScreenshotFolder, name);
    }
}
