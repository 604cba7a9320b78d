using Microsoft.AspNetCore.Http;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Tests;

/// <summary>Bodies read whole into pooled memory: what a sender claims does not decide what it costs.</summary>
public sealed class RequestBodyTests
{
    private const int Limit = 4 * 1024 * 1024;

    [Fact]
    public async Task A_body_that_claims_the_limit_and_sends_ten_bytes_holds_memory_for_what_came()
    {
        var request = new DefaultHttpContext().Request;
        request.ContentLength = Limit;
        request.Body = new MemoryStream(new byte[10]);

        // The stream answers at once, so the read stays on this thread and its count sees it all.
        var before = GC.GetAllocatedBytesForCurrentThread();
        using var body = await RequestBody.ReadAsync(request, Limit, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10, body!.Memory.Length);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for a 10-byte body that claimed {Limit}");
    }

    [Fact]
    public async Task A_body_over_the_limit_without_a_length_is_refused_once_past_it()
    {
        var request = new DefaultHttpContext().Request;
        request.Body = new MemoryStream(new byte[100_000]);

        using var body = await RequestBody.ReadAsync(request, 65_536, CancellationToken.None);

        Assert.Null(body);
    }
}
