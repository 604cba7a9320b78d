using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>When a conversation ends on its own, and why: the rules of Tavus' "Call Duration and Timeout" page.</summary>
public sealed class ConversationTimerTests
{
    private static readonly string MaxCallDurationReached = Fixtures.ShutdownReason("shutdown_max_call_duration.json");
    private static readonly string AbsentTimeoutReached = Fixtures.ShutdownReason("shutdown_participant_absent_timeout.json");
    private static readonly string LeftTimeoutReached = Fixtures.ShutdownReason("shutdown_participant_left_timeout.json");

    [Fact]
    public async Task Absent_timeout_ends_a_conversation_nobody_joined()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        app.Advance(59.999);
        Assert.Equal("active", await api.StatusOfAsync(id));

        app.Advance(0.001);
        var conversation = await api.GetConversationAsync(id);
        Assert.Equal("ended", conversation.GetProperty("status").GetString());
        Assert.Equal(AbsentTimeoutReached, conversation.GetProperty("shutdown_reason").GetString());
        Assert.Equal(SimulatorApp.At(60), conversation.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task Absent_timeout_does_not_fire_once_someone_joined()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60, ["max_call_duration"] = 600 });

        app.Advance(10);
        await api.JoinAsync(id);
        app.Advance(590 - 0.001);
        Assert.Equal("active", await api.StatusOfAsync(id));

        app.Advance(0.001);
        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Absent_timeout_does_not_fire_after_everyone_who_joined_has_left()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60, ["participant_left_timeout"] = 120 });

        app.Advance(10);
        await api.JoinAsync(id);
        await api.LeaveAsync(id);
        app.Advance(100);
        Assert.Equal("active", await api.StatusOfAsync(id));

        app.Advance(20);
        Assert.Equal(LeftTimeoutReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Left_timeout_ends_the_call_after_the_last_participant_leaves()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_left_timeout"] = 30 });

        await api.JoinAsync(id, "alice");
        await api.JoinAsync(id, "bob");
        app.Advance(10);
        await api.LeaveAsync(id, "alice");
        app.Advance(100);
        Assert.Equal("active", await api.StatusOfAsync(id));

        await api.LeaveAsync(id, "bob");
        app.Advance(29.999);
        Assert.Equal("active", await api.StatusOfAsync(id));

        app.Advance(0.001);
        var conversation = await api.GetConversationAsync(id);
        Assert.Equal(LeftTimeoutReached, conversation.GetProperty("shutdown_reason").GetString());
        Assert.Equal(SimulatorApp.At(140), conversation.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task Rejoining_before_the_left_timeout_cancels_it()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_left_timeout"] = 30 });

        await api.JoinAsync(id, "alice");
        app.Advance(10);
        await api.LeaveAsync(id);
        app.Advance(20);
        await api.JoinAsync(id, "alice");
        app.Advance(100);
        Assert.Equal("active", await api.StatusOfAsync(id));

        await api.LeaveAsync(id);
        app.Advance(30);
        Assert.Equal(LeftTimeoutReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Left_timeout_of_zero_ends_the_call_as_soon_as_the_last_participant_leaves()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_left_timeout"] = 0 });

        await api.JoinAsync(id, "alice");
        await api.JoinAsync(id, "bob");
        app.Advance(42);
        await api.LeaveAsync(id, "alice");
        Assert.Equal("active", await api.StatusOfAsync(id));

        var left = await api.LeaveAsync(id, "bob");

        Assert.Empty(left.GetProperty("participants").EnumerateArray());
        var conversation = await api.GetConversationAsync(id);
        Assert.Equal(LeftTimeoutReached, conversation.GetProperty("shutdown_reason").GetString());
        Assert.Equal(SimulatorApp.At(42), conversation.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task Left_timeout_defaults_to_zero()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        await api.JoinAsync(id);
        await api.LeaveAsync(id);

        Assert.Equal(LeftTimeoutReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Max_call_duration_ends_the_call_with_participants_in_the_room()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 120 });

        app.Advance(5);
        await api.JoinAsync(id);
        app.Advance(114.999);
        Assert.Equal("active", await api.StatusOfAsync(id));

        app.Advance(0.001);
        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Max_call_duration_beats_a_pending_left_timeout()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 100, ["participant_left_timeout"] = 60 });

        app.Advance(10);
        await api.JoinAsync(id);
        app.Advance(40);
        await api.LeaveAsync(id);
        app.Advance(50);

        var conversation = await api.GetConversationAsync(id);
        Assert.Equal(MaxCallDurationReached, conversation.GetProperty("shutdown_reason").GetString());
        Assert.Equal(SimulatorApp.At(100), conversation.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task Max_call_duration_wins_a_tie_with_the_absent_timeout()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 300, ["participant_absent_timeout"] = 300 });

        app.Advance(300);

        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(id));
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(id));
    }

    [Fact]
    public async Task Max_call_duration_wins_a_tie_with_the_left_timeout()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 100, ["participant_left_timeout"] = 60 });

        app.Advance(10);
        await api.JoinAsync(id);
        app.Advance(30);
        await api.LeaveAsync(id);
        app.Advance(60);

        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Omitted_properties_take_tavus_defaults_of_300_s_absent_and_3600_s_max()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var absent = await api.CreateConversationIdAsync();
        var present = await api.CreateConversationIdAsync();
        await api.JoinAsync(present);

        app.Advance(299.999);
        Assert.Equal("active", await api.StatusOfAsync(absent));
        app.Advance(0.001);
        Assert.Equal(AbsentTimeoutReached, await api.ShutdownReasonOfAsync(absent));

        app.Advance(3600 - 300 - 0.001);
        Assert.Equal("active", await api.StatusOfAsync(present));
        app.Advance(0.001);
        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(present));
    }

    [Fact]
    public async Task Advancing_past_several_deadlines_at_once_applies_the_earliest()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60, ["max_call_duration"] = 120 });

        app.Advance(3600);

        var conversation = await api.GetConversationAsync(id, verbose: true);
        Assert.Equal(AbsentTimeoutReached, conversation.GetProperty("shutdown_reason").GetString());
        Assert.Equal(SimulatorApp.At(60), conversation.GetProperty("updated_at").GetString());
        var timestamps = conversation.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("timestamp").GetString()!).ToArray();
        Assert.Equal<string>([SimulatorApp.At(2), SimulatorApp.At(60), SimulatorApp.At(60)], timestamps);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    public async Task Replica_joins_after_the_configured_delay(int delaySeconds)
    {
        await using var app = new SimulatorApp(("Simulator:ReplicaJoinDelaySeconds", delaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        app.Advance(delaySeconds - 0.001);
        Assert.Empty(await api.EventTypesOfAsync(id));

        app.Advance(0.001);
        var events = (await api.GetConversationAsync(id, verbose: true)).GetProperty("events");
        var joined = Assert.Single(events.EnumerateArray());
        Assert.Equal("system.replica_joined", joined.GetProperty("event_type").GetString());
        Assert.Equal(SimulatorApp.At(delaySeconds), joined.GetProperty("timestamp").GetString());
        Assert.Equal(SimulatorClient.ReplicaId, joined.GetProperty("properties").GetProperty("replica_id").GetString());
    }

    [Fact]
    public async Task Replica_never_joins_a_conversation_that_ended_before_it_arrived()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        app.Advance(1);
        await api.EndAsync(id);
        app.Advance(60);

        Assert.Equal(["system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(id));
    }

    [Fact]
    public async Task A_time_scale_of_60_fires_a_60_second_timeout_after_one_second()
    {
        await using var app = new SimulatorApp(("Simulator:TimeScale", "60"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        app.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal("active", await api.StatusOfAsync(id));
        Assert.Equal(["system.replica_joined"], await api.EventTypesOfAsync(id));

        app.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(AbsentTimeoutReached, await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task A_time_scale_of_60_reports_the_recording_duration_in_simulated_seconds()
    {
        await using var app = new SimulatorApp(("Simulator:TimeScale", "60"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 1800, ["enable_recording"] = true });
        await api.JoinAsync(id);

        app.Time.Advance(TimeSpan.FromSeconds(30));

        var events = (await api.GetConversationAsync(id, verbose: true)).GetProperty("events").EnumerateArray().ToArray();
        var recording = Assert.Single(events, e => e.GetProperty("event_type").GetString() == "application.recording_ready");
        Assert.Equal(1800, recording.GetProperty("properties").GetProperty("duration").GetInt32());
        Assert.Equal(MaxCallDurationReached, await api.ShutdownReasonOfAsync(id));
    }
}
