using System.Globalization;
using System.Text;
using CsCheck;
using static Tavus.Orchestrator.Tests.HostileValues;

namespace Tavus.Orchestrator.Tests;

/// <summary>The path and the query: the operation's path and query parameters, seeded ids, tokens and cursors.</summary>
public static partial class HostileGen
{
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
}
