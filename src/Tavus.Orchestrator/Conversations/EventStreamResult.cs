using System.Buffers;
using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// The Server-Sent Events answer of <c>GET /conversations/{id}/events</c>: the timeline, then each
/// event as it is committed, with a comment line every <c>Events:HeartbeatSeconds</c> in between
/// (written here rather than by <c>TypedResults.ServerSentEvents</c>, which cannot send comments).
/// </summary>
public sealed class EventStreamResult : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private readonly LiveTimeline _timeline;

    private EventStreamResult(LiveTimeline timeline) => _timeline = timeline;

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "text/event-stream";

    /// <summary>Subscribes before reading the stored timeline, so that no event falls between the two.</summary>
    public static async Task<EventStreamResult> OpenAsync(HttpContext context, OrchestratorDbContext db, ConversationEvents live,
        Conversation conversation, StreamCursor cursor)
    {
        var subscription = live.Subscribe(conversation.Id);
        // Released with the request, however it ends: the result may never be executed.
        context.Response.RegisterForDispose(subscription);
        var stored = await ConversationsApi.Timeline(db, conversation.Id, context.RequestAborted);
        return new EventStreamResult(new LiveTimeline(conversation.Id, conversation.Status == ConversationStatus.Failed, subscription, stored, cursor));
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.ContentEncoding = "identity";
        httpContext.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        var services = httpContext.RequestServices;
        using var output = new Output(response.BodyWriter);
        try
        {
            // Send the headers now: a client waits for them before it does what produces the events.
            await output.FlushAsync(httpContext.RequestAborted);
            await _timeline.RunAsync(output, services.GetRequiredService<IOptions<EventOptions>>().Value,
                services.GetRequiredService<TimeProvider>(), services.GetRequiredService<IServiceScopeFactory>(), httpContext.RequestAborted);
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client left.
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(SseItem<EventResponse>), ["text/event-stream"]));
    }

    /// <summary>Writes the stream's frames; nothing reaches the client before <see cref="FlushAsync"/>.</summary>
    internal sealed class Output(PipeWriter writer) : IDisposable
    {
        private static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();
        private Utf8JsonWriter? _json;

        public void Event(ConversationEvent e, string? id)
        {
            Write("event: ");
            Write(JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Kind.ToString()));
            if (id is not null)
            {
                Write("\nid: ");
                Write(id);
            }
            Write("\ndata: ");
            // Compact JSON has no line break, so the data is one line.
            if (_json is null)
            {
                _json = new Utf8JsonWriter(writer);
            }
            else
            {
                _json.Reset(writer);
            }
            JsonSerializer.Serialize(_json, EventResponse.From(e), JsonFormats.Http);
            _json.Flush();
            Write("\n\n");
        }

        public void Comment() => writer.Write(Heartbeat);

        public async Task FlushAsync(CancellationToken cancellationToken) => await writer.FlushAsync(cancellationToken);

        public void Dispose() => _json?.Dispose();

        private void Write(string text)
        {
            var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
            writer.Advance(Encoding.UTF8.GetBytes(text, span));
        }
    }
}
