using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The rules of Redocly's recommended set that a client generator depends on, checked offline so
/// the document stays lint clean without the linter (.ci/lint-openapi.sh runs the linter itself).
/// </summary>
public sealed class OpenApiTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    private JsonElement _document;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var client = Factory.CreateClient();
        _document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
    }

    private IEnumerable<(string Name, JsonElement Operation)> Operations() =>
        from path in _document.GetProperty("paths").EnumerateObject()
        from member in path.Value.EnumerateObject()
        where Methods.Contains(member.Name)
        select ($"{member.Name.ToUpperInvariant()} {path.Name}", member.Value);

    [Fact]
    public void Every_operation_has_a_unique_operationId()
    {
        var ids = Operations().Select(o => (o.Name, Id: o.Operation.TryGetProperty("operationId", out var id) ? id.GetString() : null)).ToList();
        Assert.NotEmpty(ids);
        Assert.Empty(ids.Where(o => string.IsNullOrEmpty(o.Id)).Select(o => o.Name));
        Assert.Empty(ids.GroupBy(o => o.Id).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [Fact]
    public void The_webhook_declares_its_query_token_as_security()
    {
        var webhook = _document.GetProperty("paths").GetProperty("/webhook").GetProperty("post");
        var scheme = Assert.Single(Assert.Single(webhook.GetProperty("security").EnumerateArray()).EnumerateObject()).Name;
        var declared = _document.GetProperty("components").GetProperty("securitySchemes").GetProperty(scheme);
        Assert.Equal("apiKey", declared.Str("type"));
        Assert.Equal("query", declared.Str("in"));
        Assert.Equal("token", declared.Str("name"));
    }

    [Fact]
    public void Every_tag_an_operation_uses_is_declared_with_a_description()
    {
        var declared = _document.TryGetProperty("tags", out var tags)
            ? tags.EnumerateArray().ToDictionary(t => t.Str("name"), t => t.TryGetProperty("description", out var d) ? d.GetString() : null)
            : [];
        var used = Operations().SelectMany(o => o.Operation.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)).Distinct();
        var undescribed = used.Where(tag => string.IsNullOrWhiteSpace(declared.GetValueOrDefault(tag))).ToList();
        Assert.Empty(undescribed);
    }

    [Fact]
    public void Servers_have_no_trailing_slash_and_info_has_a_license()
    {
        var servers = _document.GetProperty("servers").EnumerateArray().Select(s => s.Str("url")).ToList();
        Assert.NotEmpty(servers);
        Assert.All(servers, url => Assert.False(url.EndsWith('/'), $"{url} ends with a slash"));
        Assert.False(string.IsNullOrWhiteSpace(_document.GetProperty("info").GetProperty("license").Str("name")));
    }

    [Fact]
    public void Every_request_example_has_the_members_its_schema_requires()
    {
        var examples = 0;
        foreach (var (name, operation) in Operations())
        {
            if (!operation.TryGetProperty("requestBody", out var body))
            {
                continue;
            }
            foreach (var media in body.GetProperty("content").EnumerateObject())
            {
                if (media.Value.TryGetProperty("example", out var example))
                {
                    examples++;
                    var missing = new List<string>();
                    MissingRequired(example, media.Value.GetProperty("schema"), "", missing);
                    Assert.True(missing.Count == 0, $"{name} ({media.Name}): the example lacks {string.Join(", ", missing)}");
                }
            }
        }
        Assert.True(examples >= 4, $"only {examples} request examples");
    }

    /// <summary>Not a schema validator: required members, through $ref, nullable oneOf and nested objects.</summary>
    private void MissingRequired(JsonElement value, JsonElement schema, string at, List<string> missing)
    {
        schema = Resolve(schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                return;
            }
            foreach (var branch in oneOf.EnumerateArray().Where(b => !(b.TryGetProperty("type", out var t) && t.GetString() == "null")))
            {
                MissingRequired(value, branch, at, missing);
            }
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (schema.TryGetProperty("required", out var required))
        {
            missing.AddRange(required.EnumerateArray().Select(r => r.GetString()!)
                .Where(r => !value.TryGetProperty(r, out _)).Select(r => at + r));
        }
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var member in value.EnumerateObject())
            {
                if (properties.TryGetProperty(member.Name, out var memberSchema))
                {
                    MissingRequired(member.Value, memberSchema, $"{at}{member.Name}.", missing);
                }
            }
        }
    }

    private JsonElement Resolve(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? _document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;
}
