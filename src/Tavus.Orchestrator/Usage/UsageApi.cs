using System.ComponentModel;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Usage;

/// <summary><c>GET /tenant/usage</c> (JSON or CSV), <c>GET /admin/usage</c> and one tenant's for an operator.</summary>
public static class UsageApi
{
    public const string Csv = "text/csv";

    private const string FromText = "Start of the window, inclusive: an ISO 8601 date or instant (UTC unless it has an offset); default the start of this UTC month.";
    private const string ToText = "End of the window, exclusive: an ISO 8601 date or instant; default the start of next UTC month.";

    public static WebApplicationBuilder AddUsage(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<UsageReports>();
        return builder;
    }

    public static IEndpointRouteBuilder MapUsage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/tenant/usage", TenantUsageAsync)
            .WithName("GetTenantUsage")
            .WithTags("Usage")
            .RequireAuthorization(AuthSchemes.Tenant)
            .RequireRateLimiting(RateLimits.TenantPolicy)
            .WithSummary("The calling tenant's conversations, ends, failures and minutes, in total and by UTC day or month.")
            .WithDescription("Counts conversations created in [from, to) (ISO 8601 dates or instants, default this UTC month). " +
                "With Accept: text/csv one row per bucket: start, conversations, ended, failed, minutes, then a column per end_reason.")
            .Produces<UsageReport>(StatusCodes.Status200OK, "application/json", Csv)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        app.MapGet("/admin/usage", AdminUsageAsync)
            .WithName("GetAdminUsage")
            .WithTags("Admin: usage")
            .RequireAuthorization(AuthSchemes.Admin)
            .WithSummary("Every tenant's totals of conversations, ends, failures and minutes created in [from, to).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        app.MapGet("/admin/tenants/{id}/usage", AdminTenantUsageAsync)
            .WithName("GetAdminTenantUsage")
            .WithTags("Admin: usage")
            .RequireAuthorization(AuthSchemes.Admin)
            .WithSummary("One tenant's usage as GET /tenant/usage shows it to the tenant (JSON): totals and a bucket per UTC day or month.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>One tenant's report, as the tenant reads it, for an operator; 404 for no such tenant.</summary>
    private static async Task<Results<Ok<UsageReport>, ValidationProblem, ProblemHttpResult>> AdminTenantUsageAsync(
        string id, HttpContext context, Data.OrchestratorDbContext db, UsageReports reports, TimeProvider time,
        [Description(FromText)] string? from, [Description(ToText)] string? to,
        [Description("Buckets of a UTC day (default) or month: day or month.")] string? granularity)
    {
        var (window, errors) = UsageWindow.Read(from, to, granularity, time.GetUtcNow().UtcDateTime);
        if (window is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query.");
        }
        if (!TenantsApi.IsTenantId(id) || !await db.Tenants.AnyAsync(t => t.Id == id, context.RequestAborted))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tenant not found", detail: $"No tenant '{Problems.Quote(id)}'.");
        }
        return TypedResults.Ok(await reports.ForTenantAsync(id, window, context.RequestAborted));
    }

    private static async Task<Results<Ok<UsageReport>, ContentHttpResult, ValidationProblem>> TenantUsageAsync(
        HttpContext context, UsageReports reports, TimeProvider time, [Description(FromText)] string? from, [Description(ToText)] string? to,
        [Description("Buckets of a UTC day (default) or month: day or month.")] string? granularity)
    {
        var (window, errors) = UsageWindow.Read(from, to, granularity, time.GetUtcNow().UtcDateTime);
        if (window is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query.");
        }
        var report = await reports.ForTenantAsync(context.User.TenantId(), window, context.RequestAborted);
        return WantsCsv(context.Request)
            ? TypedResults.Text(ToCsv(report), Csv, Encoding.UTF8)
            : TypedResults.Ok(report);
    }

    private static async Task<Results<Ok<AdminUsageReport>, ValidationProblem>> AdminUsageAsync(
        HttpContext context, UsageReports reports, TimeProvider time, [Description(FromText)] string? from, [Description(ToText)] string? to)
    {
        var (window, errors) = UsageWindow.Read(from, to, "month", time.GetUtcNow().UtcDateTime);
        return window is null
            ? TypedResults.ValidationProblem(errors, title: "Invalid query.")
            : TypedResults.Ok(await reports.ForAllTenantsAsync(window, context.RequestAborted));
    }

    /// <summary>CSV only when the client asks for it over JSON (a browser's */* gets JSON).</summary>
    private static bool WantsCsv(HttpRequest request) =>
        request.GetTypedHeaders().Accept is { Count: > 0 } accept &&
        accept.Where(a => a.Quality is not 0).OrderByDescending(a => a.Quality ?? 1).FirstOrDefault() is { } best &&
        best.MediaType.Equals(Csv, StringComparison.OrdinalIgnoreCase);

    /// <summary>RFC 4180: a header row, then one row per bucket; a column per end_reason seen in the window.</summary>
    internal static string ToCsv(UsageReport report)
    {
        var reasons = report.Totals.ByEndReason.Keys.Order(StringComparer.Ordinal).ToList();
        var csv = new StringBuilder("start,conversations,ended,failed,minutes");
        foreach (var reason in reasons)
        {
            csv.Append(',').Append(Field("ended_" + reason));
        }
        csv.Append("\r\n");
        foreach (var bucket in report.Buckets)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{bucket.Start:yyyy-MM-dd'T'HH:mm:ss'Z'},{bucket.Conversations},{bucket.Ended},{bucket.Failed},{bucket.Minutes:0.0}");
            foreach (var reason in reasons)
            {
                csv.Append(',').Append(bucket.ByEndReason.GetValueOrDefault(reason).ToString(CultureInfo.InvariantCulture));
            }
            csv.Append("\r\n");
        }
        return csv.ToString();
    }

    // End reasons are our own normalised words; quoted anyway should one ever hold a comma or quote.
    private static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
