using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Notifications;
using Tavus.Orchestrator.OperatorConsole;
using Tavus.Orchestrator.Reconciliation;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Telemetry;
using Tavus.Orchestrator.Tenants;
using Tavus.Orchestrator.Usage;
using Tavus.Orchestrator.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.AddHosting();
builder.AddTelemetry();
builder.AddDatabase();
builder.AddTenants();
builder.AddTavus();
builder.AddConversations();
builder.AddWebhooks();
builder.AddReconciliation();
builder.AddUsage();
builder.AddNotifications();

var app = builder.Build();

app.UseHosting();
await app.MigrateDatabaseAsync();
await app.SeedTenantsAsync();

app.MapHosting();
app.MapTelemetry();
app.MapTavusSimulatorWhenEnabled();
app.MapTenants();
app.MapConversations();
app.MapAdminConversations();
app.MapWebhooks();
app.MapUsage();
app.MapNotifications();
app.MapAdminNotificationMessages();
app.MapConsole();

await app.RunAsync();

/// <summary>The entry point, public so that tests can host the app.</summary>
public partial class Program;
