using System.Text.Json;

namespace Tavus.Simulator.Tests.Infrastructure;

/// <summary>Tavus' documented callback bodies (tests/Fixtures/callbacks), and shape comparison against them.</summary>
internal static class Fixtures
{
    public static JsonElement Callback(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "callbacks", fileName);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    public static string ShutdownReason(string fileName) =>
        Callback(fileName).GetProperty("properties").GetProperty("shutdown_reason").GetString()!;

    /// <summary>Same keys at every level and the same kind of value under each; array items are compared with the fixture's first.</summary>
    public static void AssertSameShape(JsonElement expected, JsonElement actual, string path = "$")
    {
        Assert.True(Kind(expected) == Kind(actual), $"{path}: expected a {Kind(expected)}, got a {Kind(actual)}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var expectedKeys = expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
                var actualKeys = actual.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
                Assert.True(expectedKeys.SequenceEqual(actualKeys), $"{path}: expected keys [{string.Join(", ", expectedKeys)}], got [{string.Join(", ", actualKeys)}]");
                foreach (var property in expected.EnumerateObject())
                {
                    AssertSameShape(property.Value, actual.GetProperty(property.Name), $"{path}.{property.Name}");
                }

                break;
            case JsonValueKind.Array when expected.GetArrayLength() > 0:
                Assert.True(actual.GetArrayLength() > 0, $"{path}: expected a non-empty array");
                var index = 0;
                foreach (var item in actual.EnumerateArray())
                {
                    AssertSameShape(expected[0], item, $"{path}[{index++}]");
                }

                break;
        }
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        var kind => kind.ToString().ToLowerInvariant(),
    };
}
