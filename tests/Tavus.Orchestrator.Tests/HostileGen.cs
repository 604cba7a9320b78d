using System.Globalization;
using System.Text;
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
public static class HostileGen
{
    private const int MiB = 1024 * 1024;

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

    // ---- strings and literals ------------------------------------------------------------

    /// <summary>Text that has broken parsers, databases, terminals and logs before.</summary>
    private static readonly string[] OddTexts =
    [
        "", " ", "\u202Egnp.exe", "a\u0000b", "\u0000", "x\u0000", "\u0001\u0007\u001b[31m", "line\r\nbreak", "\t", "\u043a\u043b\u044e\u0447 \u65e5\u672c \u05e2\u05d1\u05e8\u05d9\u05ea",
        "\ud83d\ude00\ud835\udd4f", "\uFEFFbom", "\u200B\u200D", "\ud800", "\udc00x", "\ud800\ud800", "null", "NaN", "<script>alert(1)</script>",
        "' OR '1'='1", "../../etc/passwd", "%00%2F", "${jndi:ldap://x/a}", "\\", "\"", "{{7*7}}", "\u0085\u2028\u2029", "\uFFFF\uFFFE",
        "Z\u0364\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307",
    ];

    /// <summary>Mostly tens of KiB (enough to show an echo or a missing limit), now and then over 1 MiB.</summary>
    private static readonly Gen<string> Huge = Gen.Frequency(
        (6, Gen.Int[4 * 1024, 64 * 1024].Select(n => new string('x', n))),
        (1, Gen.Const(new string('x', MiB + 1))),
        (1, Gen.Const(string.Concat(Enumerable.Repeat("\u00df\u20ac\ud834\udd1e", MiB / 8)))));

    private static readonly Gen<string> Strings = Gen.Frequency(
        (6, Gen.OneOf(OddTexts)),
        (4, Gen.String[Gen.Char, 0, 40]),
        (3, Gen.String[Gen.Char.AlphaNumeric, 1, 24]),
        (1, Huge));

    private static string Clip(string text, int length = 40) =>
        text.Length <= length ? text : $"{text[..length]}… ({text.Length:N0} chars)";

    private static Gen<Part> Literals(string input, params string[] texts) =>
        Gen.OneOf(texts).Select(t => new Part(t, $"{input} {Clip(t)}"));

    private static string Nested(int depth, string open, string middle, string close) =>
        string.Concat(Enumerable.Repeat(open, depth)) + middle + string.Concat(Enumerable.Repeat(close, depth));

    private static readonly Gen<Part> OutOfRangeNumbers = Literals("number out of range",
        "1e12", "-1", "1e300", "-1e300", "1e18", "-1e12", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999999999", "1e-300", "0.5", "-0", "0", "1E400", "3155378976000000000");

    private static readonly Gen<Part> WrongTypes = Literals("wrong type",
        "true", "false", "null", "[]", "{}", "[1,\"a\",null]", "{\"a\":{\"b\":[]}}", "\"x\"", "0", "\"\"");

    private static readonly Gen<Part> NumbersAsStrings = Literals("number as string",
        "\"1e300\"", "\"-1\"", "\"NaN\"", "\"Infinity\"", "\"1800\"", "\"0x10\"", "\" 60 \"");

    private static readonly Gen<Part> Dates = Literals("date",
        "\"9999-12-31T23:59:59.9999999Z\"", "\"0001-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59-14:00\"",
        "\"10000-01-01T00:00:00Z\"", "\"2025-13-45T99:99:99Z\"", "\"-1\"", "\"1e300\"", "\"2025-07-11\"", "253402300800", "-62135596801");

    private static readonly Gen<Part> DeepNesting = Gen.OneOf(
        Gen.OneOf(65, 1_000, 10_000).Select(n => new Part(Nested(n, "[", "", "]"), $"deep nesting [×{n}")),
        Gen.OneOf(65, 10_000).Select(n => new Part(Nested(n, "{\"a\":", "1", "}"), $"deep nesting {{\"a\":×{n}")),
        Gen.Const(new Part(new string('[', 10_000), "deep nesting [×10000 unclosed")));

    private static readonly Gen<Part> StringValues = Strings.Select(s => new Part(JsonText.Quote(s), $"string {Clip(JsonText.Quote(s))}"));

    private static readonly Gen<Part> RandomNumbers = Gen.OneOf(
        Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))).Select(t => new Part(t, $"number {t}"));

    /// <summary>Any value a field might be given instead of the right one.</summary>
    private static readonly Gen<Part> Values = Gen.Frequency(
        (5, WrongTypes), (5, OutOfRangeNumbers), (3, NumbersAsStrings), (5, StringValues), (2, Dates), (1, DeepNesting), (2, RandomNumbers));

    /// <summary>Values for fields this service reads with care, by the field's own name.</summary>
    private static Gen<Part>? SpecialValuesOf(string field) => field.Split('.')[^1] switch
    {
        "timestamp" => Literals("timestamp", "1e300", "-1e12", "1e18", "\"1e300\"", "-1e300", "\"-1e12\"", "\"1e18\"", "253402300800",
            "-62135596801", "922337203685.4775807", "1e-300", "1752218165.123", "\"2025-07-11T07:15:47.472Z\"", "\"9999-12-31T23:59:59.9999999-14:00\"",
            "\"0001-01-01T00:00:00+14:00\"", "\"tomorrow\"", "null", "[]"),
        "seq" => Literals("seq", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e300", "\"42\"", "1.5", "null", "1e18"),
        "max_call_duration" or "participant_left_timeout" or "participant_absent_timeout" or "max_concurrent_conversations"
            or "default" or "min" or "max" or "latency_ms" or "limit" => Literals("timer", "-1", "0", "2147483647", "2147483648", "1e12", "1e300",
                "-1e300", "3601", "1.5", "\"60\"", "null", "-2147483648"),
        "create_error_rate" or "drop_rate" or "duplicate_rate" => Literals("rate", "\"NaN\"", "1e300", "-0.1", "2", "1e-300", "\"Infinity\""),
        "conversation_id" => Gen.Frequency(
            (6, Gen.Int[0, Real.Conversations - 1].Select(i => new Part(JsonText.Quote(Real.Conversation(i)), $"conversation_id of conversation {i}"))),
            (2, StringValues)),
        "enforcement" => Literals("enforcement", "\"reject\"", "\"clamp\"", "\"CLAMP\"", "\"0\"", "0", "99", "\"\"", "null"),
        "id" => Literals("id", JsonText.Quote(Real.TenantId), "\"UPPER\"", "\"-x\"", "\"a b\"", "\"\"", JsonText.Quote(new string('a', 65))),
        _ => null,
    };

    // ---- path, query, headers ------------------------------------------------------------

    private static string PercentEncode(string text)
    {
        var encoded = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            _ = char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~'
                ? encoded.Append((char)b)
                : encoded.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }
        return encoded.ToString();
    }

    private static Gen<Part> PathValue(ApiOperation op, int focus, bool realIds)
    {
        var real = op.Template.StartsWith("/admin/tenants", StringComparison.Ordinal)
            ? Gen.Frequency((7, Gen.Const(new Part(Real.TenantId, "path: the tenant's id"))), (3, Gen.Const(new Part(Real.OtherTenantId, "path: another tenant's id"))))
            : Gen.Const(new Part(Real.Conversation(focus), $"path: conversation {focus}"));
        return Gen.Frequency(
            (realIds ? 45 : 0, real),
            (15, Gen.String[Gen.Char.AlphaNumeric, 1, 24].Select(s => new Part(s, "path: random id"))),
            (5, Gen.Int[2_000, 20_000].Select(n => new Part(new string('a', n), $"path: huge id ({n:N0} chars)"))),
            (10, Gen.OneOf(OddTexts).Select(s => new Part(PercentEncode(s), $"path: odd text {Clip(PercentEncode(s))}"))),
            (10, Literals("path: percent junk", "%00", "%2F", "%ZZ", "%", "%2e%2e", "..", ".", "%C0%AF", "%FF%FE", "a%20b", "%u0041", "%252F", ";x=1", "%0D%0A", "%23")),
            (5, Literals("path: number", "0", "-1", "99999999999999999999", "1e300")));
    }

    private static Gen<Part> PathOf(ApiOperation op, int focus, bool realIds)
    {
        var names = op.Parameters.Where(p => p.In == "path").Select(p => p.Name).ToList();
        if (names.Count == 0)
        {
            return Gen.Const(new Part(op.Template, "path: as documented"));
        }
        return PathValue(op, focus, realIds).Array[names.Count].Select(values =>
        {
            var path = op.Template;
            for (var i = 0; i < names.Count; i++)
            {
                path = path.Replace($"{{{names[i]}}}", values[i].Text, StringComparison.Ordinal);
            }
            return new Part(path, string.Join("; ", values.Select(v => v.Input)));
        });
    }

    private static string Base64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static readonly Gen<Part> Cursors = Gen.Frequency(
        (8, Gen.OneOf("3155378976000000000|x", "9223372036854775807|x", "3155378975999999999|zzzz")
            .Select(c => new Part(Base64Url(c), $"cursor: base64 of an out-of-range date {c}"))),
        (8, Gen.OneOf("99999999999999999999|x", "3155378976000000000|x", "9223372036854775807|x", "3155378975999999999|zzzz",
            "-1|x", "0|x", "|x", "abc|x", "x", "638823841782910000|", "638823841782910000|\ud800")
            .Select(c => new Part(Base64Url(c), $"cursor: base64 of {Clip(c)}"))),
        (2, Gen.Const(new Part(Real.Cursor, "cursor: one the service handed out"))),
        (3, Literals("cursor: not base64", "!!!", "%%%", "====", "a", "ab=c", "MTIz==", "\u00ff")),
        (1, Gen.Int[1_000, 15_000].Select(n => new Part(new string('Q', n), $"cursor: huge ({n:N0} chars)"))),
        (2, Gen.Byte.Array[1, 64].Select(b => new Part(Convert.ToBase64String(b), "cursor: base64 of random bytes"))));

    private static Gen<Part> TokensFor(int focus) => Gen.Frequency(
        (50, Gen.Const(new Part(Real.Token(focus), $"token: conversation {focus}'s"))),
        (10, Gen.Int[0, Real.Conversations - 1].Select(i => new Part(Real.Token(i), $"token: conversation {i}'s"))),
        (10, Gen.String[Gen.Char.AlphaNumeric, 1, 64].Select(s => new Part(s, "token: random"))),
        (5, Gen.Const(new Part("", "token: empty"))),
        (5, Gen.Int[2_000, 20_000].Select(n => new Part(new string('t', n), $"token: huge ({n:N0} chars)"))),
        (5, Gen.OneOf(OddTexts).Select(s => new Part(PercentEncode(s), $"token: odd {Clip(s)}"))));

    private static Gen<Part> QueryValue(ApiParameter parameter, int focus) => parameter.Name switch
    {
        "token" => TokensFor(focus),
        "cursor" => Cursors,
        "status" => Literals("status", "created", "active", "ended", "failed", "pending", "ACTIVE", "", "ended,active", "%00", "1"),
        _ => parameter.Type switch
        {
            "integer" or "number" => Literals($"{parameter.Name}", "5", "1", "0", "-1", "1e12", "1e300", "-1e300", "99999999999999999999", "2147483648",
                "1.5", "abc", "", "0x10", "%201", "NaN"),
            "boolean" => Literals($"{parameter.Name}", "true", "false", "TRUE", "1", "maybe", ""),
            _ => Strings.Select(s => new Part(PercentEncode(s), $"{parameter.Name}: {Clip(s)}")),
        },
    };

    private static Gen<Part> QueryOf(ApiOperation op, int focus)
    {
        var declared = op.Parameters.Where(p => p.In == "query").ToList();
        var parameters = declared.Select(p => Gen.Frequency(
            (6, QueryValue(p, focus).Select(v => new Part($"{p.Name}={v.Text}", $"query {v.Input}"))),
            (4, Gen.Const(new Part("", $"query: no {p.Name}")))));
        var extra = Gen.Frequency(
            (8, Gen.Const(new Part("", ""))),
            (1, Gen.Const(new Part("x=1", "query: an undeclared parameter"))),
            (1, Gen.Const(new Part(declared.Count > 0 ? $"{declared[0].Name}=1&{declared[0].Name}=2" : "a=1&a=2", "query: a parameter twice"))));
        return Combine([.. parameters, extra]).Select(parts =>
        {
            var present = parts.Where(p => p.Text.Length > 0).Select(p => p.Text).ToList();
            var inputs = parts.Where(p => p.Input.Length > 0).Select(p => p.Input).DefaultIfEmpty("query: none");
            return new Part(present.Count > 0 ? "?" + string.Join('&', present) : "", string.Join("; ", inputs));
        });
    }

    /// <summary>One value from each generator, in order.</summary>
    private static Gen<Part[]> Combine(IReadOnlyList<Gen<Part>> gens) =>
        gens.Aggregate(Gen.Const(Array.Empty<Part>()), (acc, gen) => from parts in acc from part in gen select (Part[])[.. parts, part]);

    private static readonly Gen<string> GarbageKeys = Gen.Frequency(
        (5, Gen.String[Gen.Char.AlphaNumeric, 1, 64]),
        (2, Gen.OneOf(OddTexts.Where(t => t.All(c => c >= ' ' || c == '\t')).ToArray())),
        (1, Gen.Int[8_000, 64_000].Select(n => new string('k', n))),
        (1, Gen.Const(OrchestratorFactory.AdminKey + " ")));

    /// <summary>A header: absent (a null value) or one of the weighted values.</summary>
    private static Gen<(string Name, string? Value, string Input)> HeaderOf(string name, params (int Weight, Gen<Part?> Value)[] choices) =>
        Gen.Frequency([.. choices.Where(c => c.Weight > 0).Select(c => (c.Weight, (IGen<(string, string?, string)>)c.Value.Select(v =>
            (name, v?.Text, $"{name}: {v?.Input ?? "none"}"))))]);

    private static Gen<Part?> Value(string text, string input) => Gen.Const<Part?>(new Part(text, input));

    private static Gen<Part?> Value(Gen<string> texts, Func<string, string> input) => texts.Select(t => (Part?)new Part(t, input(t)));

    private static readonly Gen<Part?> Absent = Gen.Const((Part?)null);

    private static Gen<(string Name, string? Value, string Input)[]> RightHeadersOf(ApiOperation op)
    {
        var accept = HeaderOf("Accept", (50, Absent), (30, Value("application/json", "application/json")), (20, Value("*/*", "*/*")));
        var key = op.Security switch
        {
            "TenantApiKey" => HeaderOf("X-Api-Key", (9, Value(Real.TenantKey, "the tenant's key")), (1, Value(Real.OtherTenantKey, "another tenant's key"))),
            "AdminApiKey" => HeaderOf("X-Admin-Key", (1, Value(OrchestratorFactory.AdminKey, "the admin key"))),
            "SimulatorApiKey" => HeaderOf("X-Api-Key", (1, Value(OrchestratorFactory.SimulatorKey, "the simulator's key"))),
            _ => HeaderOf("X-Api-Key", (1, Absent)),
        };
        var idempotency = HeaderOf("Idempotency-Key",
            (60, Absent),
            (30, Value(Gen.String[Gen.Char.AlphaNumeric, 1, 40], _ => "random")),
            (10, Value("hostile-replay", "reused")));
        return Gen.Select(accept, key, idempotency, (a, k, i) => new[] { a, k, i });
    }

    private static Gen<(string Name, string? Value, string Input)[]> HeadersOf(ApiOperation op)
    {
        var tenantRoute = op.Security == "TenantApiKey";
        var simulatorRoute = op.Security == "SimulatorApiKey";
        var adminRoute = op.Security == "AdminApiKey";
        var accept = HeaderOf("Accept",
            (25, Absent), (15, Value("application/json", "application/json")), (12, Value("text/event-stream", "text/event-stream")),
            (10, Value("text/html", "text/html")), (10, Value("application/xml", "application/xml")), (8, Value("*/*", "*/*")),
            (5, Value("application/problem+json", "application/problem+json")),
            (5, Value("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "a browser's")),
            (5, Value("text/csv", "text/csv")), (5, Value(";;;garbage", "garbage")));
        var apiKey = HeaderOf("X-Api-Key",
            (tenantRoute ? 12 : 55, Absent),
            (tenantRoute ? 55 : 15, Value(Real.TenantKey, "the tenant's key")),
            (tenantRoute ? 8 : 2, Value(Real.OtherTenantKey, "another tenant's key")),
            (simulatorRoute ? 55 : 3, Value(OrchestratorFactory.SimulatorKey, "the simulator's key")),
            (15, Value(GarbageKeys, k => $"garbage {Clip(k, 20)}")),
            (3, Value("", "empty")));
        var adminKey = HeaderOf("X-Admin-Key",
            (adminRoute ? 15 : 80, Absent),
            (adminRoute ? 55 : 10, Value(OrchestratorFactory.AdminKey, "the admin key")),
            (adminRoute ? 15 : 10, Value(GarbageKeys, k => $"wrong {Clip(k, 20)}")),
            (adminRoute ? 5 : 0, Value("", "empty")));
        var idempotency = HeaderOf("Idempotency-Key",
            (70, Absent),
            (12, Value(Gen.String[Gen.Char.AlphaNumeric, 1, 40], _ => "random")),
            (8, Value("hostile-replay", "reused")),
            (5, Value(Gen.Int[201, 5_000].Select(n => new string('i', n)), k => $"huge ({k.Length:N0} chars)")),
            (5, Value(GarbageKeys, k => $"odd {Clip(k, 20)}")));
        return Gen.Select(accept, apiKey, adminKey, idempotency, (a, k, ad, i) => new[] { a, k, ad, i });
    }

    // ---- bodies --------------------------------------------------------------------------

    private sealed record BodyPart(HostileBody Body, string Input);

    private static readonly Gen<string?> ContentTypes = Gen.Frequency(
        (55, Gen.Const<string?>("application/json")), (8, Gen.Const<string?>("application/json; charset=utf-8")),
        (8, Gen.Const<string?>("text/plain")), (10, Gen.Const((string?)null)), (6, Gen.Const<string?>("application/xml")),
        (4, Gen.Const<string?>("application/json; charset=utf-16")), (3, Gen.Const<string?>("application/x-www-form-urlencoded")),
        (3, Gen.Const<string?>("multipart/form-data; boundary=x")), (3, Gen.Const<string?>(";;;")));

    private static readonly string[] NotJson =
    [
        "not json", "<tenant><id>x</id></tenant>", "{", "}", "[", "\"just a string\"", "123", "null", "true", "[]", "{}", "{\"a\":1}x", "{}{}",
        "{\"a\":1,}", "/*c*/{}", "{'a':1}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":01}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", " ", "\u0000",
        "id=x&name=y", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--",
    ];

    private static Gen<(Shape Shape, string Input)> Mutated(Shape shape)
    {
        var fields = shape.Fields().ToArray();
        var objects = shape.Objects().ToArray();
        var special = fields.Select(f => (f.Path, f.Name, Values: SpecialValuesOf(f.Name))).Where(f => f.Values is not null).ToArray();
        var choices = new List<(int, IGen<(Shape, string)>)>
        {
            (10, Gen.Const((shape, "valid"))),
        };
        if (fields.Length > 0)
        {
            var field = Gen.Int[0, fields.Length - 1].Select(i => fields[i]);
            choices.Add((30, from f in field from v in Values select (shape.With(f.Path, _ => new ShapeLiteral(v.Text)), $"{f.Name} = {v.Input}")));
            choices.Add((10, from f1 in field
                             from v1 in Values
                             from f2 in field
                             from v2 in Values
                             select (shape.With(f1.Path, _ => new ShapeLiteral(v1.Text)).With(f2.Path, _ => new ShapeLiteral(v2.Text)),
                                 $"{f1.Name} = {v1.Input}, {f2.Name} = {v2.Input}")));
            choices.Add((5, field.Select(f => (shape.Without(f.Path), $"{f.Name} left out"))));
            choices.Add((20, from f in field
                             from v in Gen.Frequency((2, Gen.Const(new Part(shape.At(f.Path).Render(), "the same value"))), (1, Values))
                             select (shape.Inserting(f.Path[..^1], f.Path[^1] + 1, new ShapeMember(JsonText.Quote(f.Name.Split('.')[^1]), new ShapeLiteral(v.Text))),
                                 $"duplicate property {f.Name} ({v.Input})")));
        }
        if (special.Length > 0)
        {
            choices.Add((20, from i in Gen.Int[0, special.Length - 1]
                             from v in special[i].Values!
                             select (shape.With(special[i].Path, _ => new ShapeLiteral(v.Text)), $"{special[i].Name} = {v.Input}")));
        }
        if (objects.Length > 0)
        {
            var names = fields.Select(f => f.Name.Split('.')[^1]).DefaultIfEmpty("name").ToArray();
            var unknownNames = Gen.Frequency(
                (3, Gen.OneOf(names).Select(n => new Part(n + "s", "near miss"))),
                (1, Gen.OneOf(names).Select(n => new Part(n.ToUpperInvariant(), "upper case"))),
                (2, Gen.String[Gen.Char.AlphaNumeric, 1, 30].Select(n => new Part(n, "random"))),
                (2, Gen.OneOf(OddTexts).Select(n => new Part(n, $"odd {Clip(JsonText.Quote(n))}"))),
                (4, Huge.Select(n => new Part(n, $"huge ({n.Length:N0} chars)"))),
                (1, Gen.Const(new Part("callback_url", "callback_url"))),
                (1, Gen.Const(new Part("__proto__", "__proto__"))));
            choices.Add((10, from o in Gen.Int[0, objects.Length - 1]
                             from name in unknownNames
                             select (shape.Inserting(objects[o], 0, new ShapeMember(JsonText.Quote(name.Text), new ShapeLiteral("1"))),
                                 $"unknown property: {name.Input}")));
        }
        return Gen.Frequency([.. choices]);
    }

    private static readonly Gen<string?> JsonContentTypes = Gen.Frequency(
        (9, Gen.Const((string?)"application/json")), (1, Gen.Const((string?)"application/json; charset=utf-8")));

    private static Gen<BodyPart> BodyOf(ApiOperation op, int focus, bool rightEnvelope)
    {
        var junk = Gen.Frequency(
            (10, Gen.OneOf(NotJson).Select(t => new Part(t, $"not JSON: {Clip(t)}"))),
            (4, DeepNesting.Select(d => d with { Input = $"whole body: {d.Input}" })),
            (5, Gen.Const(new Part("", "empty"))));
        var bytes = Gen.OneOf(
            Gen.Const(((byte[])[.. "{\"a\":\""u8, 0xC3, 0x28, .. "\"}"u8], "invalid UTF-8")),
            Gen.Const(((byte[])[0xFF, 0xFE, .. Encoding.Unicode.GetBytes("{\"a\":1}")], "UTF-16 with a BOM")),
            Gen.Const(((byte[])[0xEF, 0xBB, 0xBF, .. "{}"u8], "UTF-8 BOM then {}")),
            Gen.Byte.Array[1, 256].Select(b => (b, "random bytes")));
        Gen<(HostileBody Body, string Input)> content;
        if (op.Bodies.Count == 0)
        {
            content = Gen.Frequency(
                (85, Gen.Const((HostileBody.None, "no body"))),
                (10, junk.Select(j => (new HostileBody(null, j.Text, null), $"unexpected body: {j.Input}"))),
                (5, StringValues.Select(v => (new HostileBody(null, $"{{\"a\":{v.Text}}}", null), $"unexpected body {{\"a\": {v.Input}}}"))));
        }
        else
        {
            var shapes = op.Bodies.Select(s => s is ShapeObject o && op.Template == "/webhook" ? WithConversationId(o, focus) : s).ToArray();
            // The first shape is the documented example where there is one: a valid body, but for what is mutated.
            var firstShapeMostly = shapes.Length == 1 ? Gen.Const(0) : Gen.Frequency((3, Gen.Const(0)), (shapes.Length - 1, Gen.Int[0, shapes.Length - 1]));
            content = Gen.Frequency(
                (70, from i in firstShapeMostly
                     from fresh in FreshIds
                     from m in Mutated(WithFreshId(shapes[i], fresh))
                     select (new HostileBody(null, m.Shape.Render(), null), $"body: {m.Input}")),
                (19, junk.Select(j => (new HostileBody(null, j.Text, null), $"body: {j.Input}"))),
                (4, Gen.Const((HostileBody.None, "no body"))),
                (3, from i in Gen.Int[0, shapes.Length - 1]
                    select (new HostileBody(null, shapes[i].Render()[..(shapes[i].Render().Length / 2)], null), "body: cut in half")),
                (4, bytes.Select(b => (new HostileBody(null, null, b.Item1), $"body: {b.Item2}"))));
        }
        return from c in content
               from type in rightEnvelope ? JsonContentTypes : ContentTypes
               select c.Body == HostileBody.None
                   ? new BodyPart(c.Body, c.Input)
                   : new BodyPart(c.Body with { ContentType = type }, $"{c.Input}; Content-Type: {type ?? "none"}");
    }

    private static readonly Gen<string?> FreshIds = Gen.Frequency(
        (7, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], 8, 20].Select(s => (string?)s)), (3, Gen.Const((string?)null)));

    /// <summary>A new tenant gets an id no tenant has yet (mostly), so that its other fields reach the database.</summary>
    private static Shape WithFreshId(Shape shape, string? id) => shape is ShapeObject o && id is not null
        ? new ShapeObject([.. o.Members.Select(m => JsonText.Unquote(m.Key) == "id" ? m with { Value = new ShapeLiteral(JsonText.Quote(id)) } : m)])
        : shape;

    /// <summary>A callback names a seeded conversation, so that a right token can reach the parts behind it.</summary>
    private static ShapeObject WithConversationId(ShapeObject callback, int focus) => new(
        [.. callback.Members.Select(m => JsonText.Unquote(m.Key) == "conversation_id" ? m with { Value = new ShapeLiteral(JsonText.Quote(Real.Conversation(focus))) } : m)]);
}
