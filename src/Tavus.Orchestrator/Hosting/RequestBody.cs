using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// A request body read whole, under a limit of the caller's, into one array from the shared pool:
/// valid until disposed, which gives the array back (a callback's body is read, parsed and copied
/// out within its request, so no request allocates one of its own).
/// </summary>
public sealed class RequestBody : IDisposable
{
    private static readonly RequestBody Empty = new(null, 0);

    private byte[]? _array;
    private readonly int _length;

    private RequestBody(byte[]? array, int length) => (_array, _length) = (array, length);

    public ReadOnlyMemory<byte> Memory => _array is { } array ? array.AsMemory(0, _length) : default;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>Reads the whole body, or null as soon as it is over the limit (the options hold it under 2 GiB).</summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
        // Memory follows the bytes that came, not the length a sender claims: at most 16 KiB to start
        // (most callbacks are under 1 KiB), then twice as much each time it is full.
        var expected = request.ContentLength;
        byte[]? buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(expected ?? InitialBytes, Math.Min(InitialBytes, limit + 1)));
        var written = 0;
        try
        {
            while (true)
            {
                // Kestrel ends a body at its Content-Length: no read (and no larger array) to see that.
                if (written == expected)
                {
                    return Take(ref buffer, written);
                }
                if (written == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, limit + 1L));
                    buffer.AsSpan(0, written).CopyTo(larger);
                    (buffer, larger) = (larger, buffer);
                    ArrayPool<byte>.Shared.Return(larger);
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(written), cancellationToken);
                if (read == 0)
                {
                    return Take(ref buffer, written);
                }
                written += read;
                if (written > limit)
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
            return Empty;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private const int InitialBytes = 16 * 1024;

    /// <summary>The body in the buffer, which is the body's now (not given back on the way out).</summary>
    private static RequestBody Take(ref byte[]? buffer, int length)
    {
        var body = new RequestBody(buffer, length);
        buffer = null;
        return body;
    }
}
