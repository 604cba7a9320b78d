using CsCheck;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Stand-ins for what exists only once the host runs (keys, ids, tokens): generated requests name
/// them, and the test puts the real values in when it sends. A request thus stays the same for a
/// seed, whatever ids this run's conversations got.
/// </summary>
public static class Real
{
    public const string TenantKey = "«tenant-key»";
    public const string OtherTenantKey = "«other-tenant-key»";
    public const string TenantId = "«tenant-id»";
    public const string OtherTenantId = "«other-tenant-id»";
    public const string Cursor = "«cursor»";

    /// <summary>The seeded conversations: 0 created, 1 active, 2 ended (all the tenant's), 3 the other tenant's.</summary>
    public const int Conversations = 4;

    public static string Conversation(int index) => $"«conversation-{index}»";

    public static string Token(int index) => $"«token-{index}»";
}

/// <summary>A generated request; its texts may hold <see cref="Real"/> stand-ins.</summary>
public sealed record HostileRequest(
    ApiOperation Operation,
    string Path,
    string Query,
    IReadOnlyList<(string Name, string Value)> Headers,
    HostileBody Body,
    IReadOnlyList<string> Inputs)
{
    /// <summary>How big the request is, to keep the smallest of several that fail alike.</summary>
    public long Size => Path.Length + Query.Length + Headers.Sum(h => h.Name.Length + h.Value.Length) + Body.Length;
}

/// <summary>A body as text (sent UTF-8) or as bytes; neither for no body at all.</summary>
public sealed record HostileBody(string? ContentType, string? Text, byte[]? Bytes)
{
    public static HostileBody None { get; } = new(null, null, null);

    public long Length => Text?.Length ?? Bytes?.Length ?? 0;
}

/// <summary>A generated piece of a request and the input class it belongs to, for the failure report.</summary>
public readonly record struct Part(string Text, string Input);

/// <summary>CsCheck generators of hostile requests for the operations of an OpenAPI document.</summary>
public static partial class HostileGen
{
    /// <summary>Requests for every operation; <paramref name="realIdsAllowed"/> says where seeded ids may go into the path.</summary>
    public static Gen<HostileRequest> Requests(IReadOnlyList<ApiOperation> operations, Func<ApiOperation, bool> realIdsAllowed) =>
        Gen.Frequency([.. operations.Select(op => (Weight(op), (IGen<HostileRequest>)Request(op, realIdsAllowed(op))))]);

    /// <summary>
    /// The webhook is the one route any stranger reaches, creates and lists are what tenants do all
    /// day, and a body has more to get wrong than a path.
    /// </summary>
    private static int Weight(ApiOperation op) => op.Name switch
    {
        "POST /webhook" => 6,
        "POST /conversations" => 5,
        "GET /conversations" => 3,
        _ => op.Bodies.Count > 0 ? 3 : 2,
    };

    /// <summary>
    /// Some requests come in a right envelope (the route's key, a JSON Accept and Content-Type), so
    /// that their hostile path, query or body reaches the handler instead of stopping at the door.
    /// </summary>
    private static Gen<HostileRequest> Request(ApiOperation op, bool realIds) =>
        from rightEnvelope in Gen.Frequency((45, Gen.Const(true)), (55, Gen.Const(false)))
        from focus in Gen.Int[0, Real.Conversations - 1]
        from path in PathOf(op, focus, realIds)
        from query in QueryOf(op, focus)
        from headers in rightEnvelope ? RightHeadersOf(op) : HeadersOf(op)
        from body in BodyOf(op, focus, rightEnvelope)
        select new HostileRequest(op, path.Text, query.Text,
            [.. headers.Where(h => h.Value is not null).Select(h => (h.Name, h.Value!))],
            body.Body,
            [path.Input, query.Input, .. headers.Select(h => h.Input), body.Input]);
}
