using System.Text.Json;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// What a text from outside must be before it is stored: no control characters (PostgreSQL refuses
/// NUL in text) and no half of a surrogate pair (Npgsql refuses to encode it). Both would fail a
/// write deep in the database instead of the request at the door.
/// </summary>
public static class TextRules
{
    /// <summary>True when <paramref name="text"/> can be stored as it is; free text may have line breaks and tabs.</summary>
    public static bool IsStorable(string text, bool freeText = false)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c) || (char.IsControl(c) && !(freeText && c is '\n' or '\r' or '\t')))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A JSON string as text; null when it is not a string, or when it escapes half a surrogate pair
    /// (<c>"\ud800"</c>), on which <see cref="JsonElement.GetString"/> throws.
    /// </summary>
    public static string? Read(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A JSON string that can be stored as it is and is at most <paramref name="maxLength"/> long; else null.</summary>
    public static string? ReadStorable(JsonElement value, int maxLength, bool freeText = false) =>
        Read(value) is { } text && text.Length <= maxLength && IsStorable(text, freeText) ? text : null;
}
