// The baseline for bench/run.sh: the least an ASP.NET Core app can do for a Tavus callback.
// POST /webhook reads the whole body (as the orchestrator must) and answers what the orchestrator
// answers, so that the difference between the two is the cost of checking and storing the event.
// The query string (the orchestrator's callback token) is ignored.

var builder = WebApplication.CreateSlimBuilder(args);
// Warnings only: a log line per request would measure the console, not the endpoint.
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var app = builder.Build();

var recorded = """{"status":"recorded"}"""u8.ToArray();

app.MapPost("/webhook", async (HttpContext context) =>
{
    // Drain the body without keeping it: reading is the part both servers share.
    await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
    return Results.Bytes(recorded, "application/json");
});

await app.RunAsync();
