using System.Text;
using CsCheck;
using static Tavus.Orchestrator.Tests.HostileValues;

namespace Tavus.Orchestrator.Tests;

/// <summary>The body: the operation's documented shapes mutated field by field, junk, bytes and each Content-Type.</summary>
public static partial class HostileGen
{
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
