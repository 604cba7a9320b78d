using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// The one home of how refusals read: every 4xx/5xx is ProblemDetails whatever the client's
/// <c>Accept</c> says, carries a <c>detail</c>, names what was wrong without echoing much of it, and
/// a 429 carries a <c>type</c>.
/// </summary>
public static class Problems
{
    /// <summary>
    /// Problem types of our own. Tag URIs (RFC 4151), as RFC 9457 suggests for types that are not
    /// meant to be fetched; the last segment is what a client matches on.
    /// </summary>
    public const string TypeBase = "tag:tavus-orchestrator,2026:problems/";
    public const string RateLimited = TypeBase + "rate-limited";
    public const string ConcurrencyCap = TypeBase + "concurrency-cap";
    public const string TavusConcurrencyLimit = TypeBase + "tavus-concurrency-limit";
    public const string TooManyStreams = TypeBase + "too-many-streams";
    public const string QuotaExhausted = TypeBase + "quota-exhausted";
    public const string DatabaseBusy = TypeBase + "database-busy";

    /// <summary>When a client may retry after the database was busy.</summary>
    private const string DatabaseRetryAfterSeconds = "2";

    /// <summary>How much of a client's own input a refusal quotes back.</summary>
    public const int QuoteLength = 64;

    public static IServiceCollection AddProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);
        // After the default writer, which takes every client that accepts JSON: this one takes the rest
        // (Accept: text/html, text/event-stream …), so that an answer is never left unwritable.
        services.AddSingleton<IProblemDetailsWriter, AnyAcceptWriter>();
        // Binding failures (malformed JSON, duplicate names, a number out of range) become
        // BadHttpRequestException in every environment, answered by the exception handler below.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<ExceptionHandlerOptions>(options =>
        {
            // A body that breaks off (the client hung up, or sent less than its Content-Length), or
            // one that does not bind, is the client's error, answered with its status, not a logged
            // server error.
            // A database that cannot take the request now is 503 with Retry-After (see Customize),
            // still logged: an operator wants to see it.
            options.StatusCodeSelector = exception => exception switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                _ when DbErrors.IsUnavailable(exception) => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            };
            options.SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException;
        });
        return services;
    }

    /// <summary>Writes a problem from outside an endpoint (authentication challenges, the rate limiter).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string? type = null)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = type },
        });
    }

    /// <summary>At most <see cref="QuoteLength"/> characters of a client's text, marked when cut.</summary>
    public static string Quote(string text) => text.Length <= QuoteLength ? text : string.Concat(text.AsSpan(0, QuoteLength), "…");

    private static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Extensions.Remove("exception");
        if (context.Exception is InvalidRequestException invalid)
        {
            problem.Title = invalid.Title;
            problem.Detail = invalid.Detail;
            if (invalid.Errors is { } errors)
            {
                problem.Extensions["errors"] = errors;
                problem.Detail = ListFields(errors);
            }
        }
        else if (context.Exception is BadHttpRequestException bad)
        {
            Describe(bad, problem);
        }
        else if (context.Exception is { } exception && DbErrors.IsUnavailable(exception))
        {
            problem.Title = "The database is busy.";
            problem.Detail = "The database could not take this request now (out of connections, locked, or unreachable). Retry shortly.";
            problem.Type = DatabaseBusy;
            context.HttpContext.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds;
        }
        if (problem.Status == StatusCodes.Status429TooManyRequests)
        {
            problem.Type ??= RateLimited;
        }
        if (problem is HttpValidationProblemDetails { Detail: null } validation)
        {
            problem.Detail = ListFields(validation.Errors);
        }
    }

    private static string ListFields(IDictionary<string, string[]> errors) =>
        "These fields are not valid: " + string.Join(", ", errors.Keys.Take(5).Select(k => k.Length == 0 ? "(body)" : Quote(k))) +
        (errors.Count > 5 ? ", …" : "") + ". See errors.";

    /// <summary>
    /// A request that did not bind: what and where, never the raw exception (which can quote a
    /// megabyte-long property name back).
    /// </summary>
    private static void Describe(BadHttpRequestException bad, ProblemDetails problem)
    {
        problem.Title ??= bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => "The body is too large.",
            _ => "The request could not be read.",
        };
        if (bad.InnerException is JsonException json)
        {
            var field = json.Path is { Length: > 0 } path ? Quote(path.TrimStart('$').TrimStart('.')) : "";
            problem.Detail = json.Message.Contains("uplicate", StringComparison.Ordinal)
                ? $"The JSON body has a property name twice{(field.Length > 0 ? $" (at '{field}')" : "")}; each name may appear once."
                : $"The JSON body is malformed or has a value of the wrong type or out of range{(field.Length > 0 ? $" at '{field}'" : "")}.";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [problem.Detail] };
        }
        else
        {
            // Kestrel's and the binder's own messages name the parameter and quote at most a URL's worth.
            problem.Detail ??= bad.Message.Length <= 300 ? bad.Message : bad.Message[..300] + "…";
        }
    }

    /// <summary>Writes problem+json for clients whose <c>Accept</c> names no JSON (the default writer declines them).</summary>
    private sealed class AnyAcceptWriter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var problem = context.ProblemDetails;
            var response = context.HttpContext.Response;
            problem.Status ??= response.StatusCode;
            problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
            options.Value.CustomizeProblemDetails?.Invoke(context);
            return new ValueTask(response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions,
                "application/problem+json", context.HttpContext.RequestAborted));
        }
    }
}

/// <summary>
/// A body that does not bind to its request record, refused by the binder (through the exception
/// handler, as the framework's own binding failures are): 400 with the errors by field, or another
/// 4xx with a title and detail.
/// </summary>
public sealed class InvalidRequestException : BadHttpRequestException
{
    public InvalidRequestException(IDictionary<string, string[]> errors)
        : base("The request has invalid fields.", StatusCodes.Status400BadRequest)
    {
        Title = "The request has invalid fields.";
        Errors = errors;
    }

    public InvalidRequestException(int statusCode, string title, string detail) : base(title, statusCode)
    {
        Title = title;
        Detail = detail;
    }

    public string Title { get; }

    public string? Detail { get; }

    public IDictionary<string, string[]>? Errors { get; }
}
