using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The create body has one source of truth, the request record: what OpenAPI documents is what the
/// binder accepts and what reaches Tavus.
/// </summary>
public sealed class CreateRequestTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private JsonElement _document;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var client = Factory.CreateClient();
        _document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
    }

    private JsonElement Schema(string name) => _document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    private JsonElement CreateOperation => _document.GetProperty("paths").GetProperty("/conversations").GetProperty("post");

    /// <summary>A valid value for every property the document lists, by its documented type.</summary>
    private JsonObject EveryDocumentedField(JsonElement schema)
    {
        var body = new JsonObject();
        foreach (var property in schema.GetProperty("properties").EnumerateObject())
        {
            var type = property.Value.TryGetProperty("type", out var t) ? t.ToString() : "";
            body[property.Name] = property.Name switch
            {
                "properties" => EveryDocumentedField(Schema("ConversationPropertiesRequest")),
                "max_call_duration" => 600,
                "participant_left_timeout" => 30,
                "participant_absent_timeout" => 120,
                _ when type.Contains("integer", StringComparison.Ordinal) => 1,
                _ when type.Contains("boolean", StringComparison.Ordinal) => false,
                _ when type.Contains("array", StringComparison.Ordinal) => new JsonArray("x"),
                _ => $"documented {property.Name}",
            };
        }
        return body;
    }

    [Fact]
    public async Task Every_documented_field_is_accepted_and_reaches_Tavus()
    {
        var body = EveryDocumentedField(Schema("CreateConversationRequest"));
        Assert.True(body.Count >= 10, $"the document lists {body.Count} create fields");

        var response = await Tenant.PostAsJsonAsync("/conversations", body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadJsonAsync();
        Assert.Equal("documented conversation_name", created.Str("conversation_name"));
        using var simulator = Factory.CreateSimulatorClient();
        var atTavus = await (await simulator.GetAsync($"v2/conversations/{created.Str("conversation_id")}")).ReadJsonAsync();
        Assert.Equal("documented conversation_name", atTavus.Str("conversation_name"));
        Assert.Equal("documented persona_id", atTavus.Str("persona_id"));
        Assert.Equal(600, created.GetProperty("properties").GetProperty("max_call_duration").GetInt32());
    }

    [Fact]
    public async Task A_field_the_document_does_not_list_is_refused_by_name()
    {
        var body = EveryDocumentedField(Schema("CreateConversationRequest"));
        body["max_call_durations"] = 600;

        var response = await Tenant.PostAsJsonAsync("/conversations", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Contains("properties.max_call_duration", problem.GetProperty("errors").GetProperty("max_call_durations")[0].GetString());
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_is_refused_with_the_field_named()
    {
        var response = await Tenant.PostAsJsonAsync("/conversations",
            new { persona_id = "p1", properties = new { max_call_duration = "600" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty("properties.max_call_duration", out _));
        Assert.Contains("properties.max_call_duration", problem.Str("detail"));
    }

    [Fact]
    public void The_create_operation_documents_its_body_and_the_idempotency_key()
    {
        var schema = CreateOperation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.EndsWith("/CreateConversationRequest", schema.Str("$ref"));
        var header = Assert.Single(CreateOperation.GetProperty("parameters").EnumerateArray(), p => p.Str("name") == "Idempotency-Key");
        Assert.Equal("header", header.Str("in"));
    }
}
