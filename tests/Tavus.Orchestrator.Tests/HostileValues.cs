using System.Globalization;
using CsCheck;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The values hostile requests are made of: odd and huge strings, wrong types, out-of-range numbers
/// and dates, deep nesting, and values for the fields this service reads with care.
/// </summary>
internal static class HostileValues
{
    private const int MiB = 1024 * 1024;

    /// <summary>Text that has broken parsers, databases, terminals and logs before.</summary>
    internal static readonly string[] OddTexts =
    [
        "", " ", "\u202Egnp.exe", "a\u0000b", "\u0000", "x\u0000", "\u0001\u0007\u001b[31m", "line\r\nbreak", "\t", "\u043a\u043b\u044e\u0447 \u65e5\u672c \u05e2\u05d1\u05e8\u05d9\u05ea",
        "\ud83d\ude00\ud835\udd4f", "\uFEFFbom", "\u200B\u200D", "\ud800", "\udc00x", "\ud800\ud800", "null", "NaN", "<script>alert(1)</script>",
        "' OR '1'='1", "../../etc/passwd", "%00%2F", "${jndi:ldap://x/a}", "\\", "\"", "{{7*7}}", "\u0085\u2028\u2029", "\uFFFF\uFFFE",
        "Z\u0364\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307",
    ];

    /// <summary>Mostly tens of KiB (enough to show an echo or a missing limit), now and then over 1 MiB.</summary>
    internal static readonly Gen<string> Huge = Gen.Frequency(
        (6, Gen.Int[4 * 1024, 64 * 1024].Select(n => new string('x', n))),
        (1, Gen.Const(new string('x', MiB + 1))),
        (1, Gen.Const(string.Concat(Enumerable.Repeat("\u00df\u20ac\ud834\udd1e", MiB / 8)))));

    internal static readonly Gen<string> Strings = Gen.Frequency(
        (6, Gen.OneOf(OddTexts)),
        (4, Gen.String[Gen.Char, 0, 40]),
        (3, Gen.String[Gen.Char.AlphaNumeric, 1, 24]),
        (1, Huge));

    internal static string Clip(string text, int length = 40) =>
        text.Length <= length ? text : $"{text[..length]}… ({text.Length:N0} chars)";

    internal static Gen<Part> Literals(string input, params string[] texts) =>
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

    internal static readonly Gen<Part> DeepNesting = Gen.OneOf(
        Gen.OneOf(65, 1_000, 10_000).Select(n => new Part(Nested(n, "[", "", "]"), $"deep nesting [×{n}")),
        Gen.OneOf(65, 10_000).Select(n => new Part(Nested(n, "{\"a\":", "1", "}"), $"deep nesting {{\"a\":×{n}")),
        Gen.Const(new Part(new string('[', 10_000), "deep nesting [×10000 unclosed")));

    internal static readonly Gen<Part> StringValues = Strings.Select(s => new Part(JsonText.Quote(s), $"string {Clip(JsonText.Quote(s))}"));

    private static readonly Gen<Part> RandomNumbers = Gen.OneOf(
        Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))).Select(t => new Part(t, $"number {t}"));

    /// <summary>Any value a field might be given instead of the right one.</summary>
    internal static readonly Gen<Part> Values = Gen.Frequency(
        (5, WrongTypes), (5, OutOfRangeNumbers), (3, NumbersAsStrings), (5, StringValues), (2, Dates), (1, DeepNesting), (2, RandomNumbers));

    /// <summary>Values for fields this service reads with care, by the field's own name.</summary>
    internal static Gen<Part>? SpecialValuesOf(string field) => field.Split('.')[^1] switch
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
}
