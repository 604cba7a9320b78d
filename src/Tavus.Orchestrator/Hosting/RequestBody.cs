using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Tavus.Orchestrator.Hosting;

/// <summary>Request bodies read whole, under a limit of the caller's, into one buffer.</summary>
public static class RequestBody
{
    /// <summary>Reads the whole body, or null as soon as it is over the limit.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        try
        {
            while (true)
            {
                // With a Content-Length, room for the rest and one byte to see the end; else 8 KiB at a time.
                var want = request.ContentLength is { } length ? (int)Math.Max(1, length + 1 - buffer.WrittenCount) : 8 * 1024;
                var read = await request.Body.ReadAsync(buffer.GetMemory(want), cancellationToken);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }
                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    return null;
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        catch (BadHttpRequestException)
        {
            // The sender went away mid-body: nothing to store, nobody to answer.
            return ReadOnlyMemory<byte>.Empty;
        }
    }
}
