using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tavus.Orchestrator.Webhooks;

namespace Tavus.Orchestrator.Tests;

/// <summary>How a callback's token is read from its URL's query string, and what is refused.</summary>
public sealed class CallbackTokenTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private const string Token = "q1V0bUq1tIg1VYt9tq2aR7b0f8Xx_-AbCdEfGhIjKlM";

    [Theory]
    [InlineData("?token=" + Token)]
    [InlineData("token=" + Token)]
    [InlineData("?a=1&token=" + Token)]
    [InlineData("?token=" + Token + "&b=2&tokens=x&xtoken=y")]
    [InlineData("?token=q1V0bUq1tIg1VYt9tq2aR7b0f8Xx%5F%2DAbCdEfGhIjKlM")] // percent-encoded
    public void The_one_token_parameter_is_hashed_as_stored(string query) =>
        Assert.Equal(CallbackTokens.Hash(Token), CallbackTokens.HashFromQuery(query));

    [Theory]
    [InlineData("")]
    [InlineData("?")]
    [InlineData("?token=")]
    [InlineData("?token")]
    [InlineData("?Token=" + Token)]
    [InlineData("?token=" + Token + "&token=" + Token)] // two: which is meant is not guessed
    [InlineData("?token=other&token=" + Token)]
    public void No_token_or_more_than_one_is_none(string query) =>
        Assert.Null(CallbackTokens.HashFromQuery(query));

    [Fact]
    public void A_token_too_long_to_be_ours_is_not_hashed()
    {
        Assert.NotNull(CallbackTokens.HashFromQuery("?token=" + new string('a', CallbackTokens.MaxTokenLength)));
        Assert.Null(CallbackTokens.HashFromQuery("?token=" + new string('a', CallbackTokens.MaxTokenLength + 1)));
        Assert.NotNull(CallbackTokens.HashFromQuery("?token=" + string.Concat(Enumerable.Repeat("%61", CallbackTokens.MaxTokenLength))));
        Assert.Null(CallbackTokens.HashFromQuery("?token=" + string.Concat(Enumerable.Repeat("%61", CallbackTokens.MaxTokenLength + 1))));
    }

    [Fact]
    public async Task A_callback_with_its_token_among_other_parameters_is_stored_and_with_it_twice_is_401()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        using var tavus = Factory.CreateClient();
        var body = JsonNode.Parse(Json.Fixture("replica_joined.json"))!.AsObject();
        body["conversation_id"] = id;
        StringContent Body() => new(body.ToJsonString(), Encoding.UTF8, "application/json");

        var twice = await tavus.PostAsync($"/webhook?token={token}&token={token}", Body());
        var among = await tavus.PostAsync($"/webhook?source=tavus&token={token}&attempt=1", Body());

        Assert.Equal(HttpStatusCode.Unauthorized, twice.StatusCode);
        Assert.Equal(HttpStatusCode.OK, among.StatusCode);
        Assert.Equal("recorded", (await among.ReadJsonAsync()).Str("status"));
    }
}
