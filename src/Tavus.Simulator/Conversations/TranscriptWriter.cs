using System.Text;
using Tavus.Simulator.Callbacks;

namespace Tavus.Simulator.Conversations;

/// <summary>
/// Writes the chat history Tavus sends in <c>application.transcription_ready</c>: the persona's whole
/// system prompt first (often over 10 KB at Tavus, so receivers meet realistic body sizes), then the turns.
/// </summary>
internal static class TranscriptWriter
{
    private const int SystemPromptTargetLength = 10 * 1024;

    private static readonly string[] Guidelines =
    [
        "Keep every answer short enough to be spoken comfortably in under twenty seconds, and stop to let the user respond.",
        "Never invent facts about the user's company; when something is unknown, ask a clarifying question instead.",
        "Mirror the user's level of formality, and stay warm and professional even when the user is curt or frustrated.",
        "If the user drifts away from the purpose of the call, acknowledge what they said and steer back gently.",
        "Do not read lists aloud; summarise the two or three most useful points and offer to go deeper on any of them.",
        "When the user asks for feedback, name one thing that went well and one concrete thing to try differently.",
        "Avoid jargon unless the user used it first, and explain any term the user seems unsure about in one sentence.",
        "Close the conversation by recapping what was agreed and what the user intends to do next.",
    ];

    public static IReadOnlyList<TranscriptItem> Write(ConversationSettings settings, bool anyoneJoined)
    {
        var transcript = new List<TranscriptItem> { new("system", SystemPrompt(settings)) };
        if (!anyoneJoined)
        {
            // Nobody was in the room, so nobody spoke.
            return transcript;
        }

        transcript.Add(new("assistant", settings.CustomGreeting ?? "Hi there, thanks for joining! What would you like to focus on today?"));
        transcript.Add(new("user", "Hi! Could you walk me through what we are going to cover?"));
        transcript.Add(new("assistant", settings.ConversationalContext is { Length: > 0 } context
            ? $"Of course. Here is what I have in front of me: {Shorten(context, 200)} Where would you like to start?"
            : "Of course. We can cover whatever is most useful to you. Where would you like to start?"));
        transcript.Add(new("user", "Let's start with the first point, and keep it practical."));
        transcript.Add(new("assistant", "Sounds good. Tell me how you handle it today, and we will build from there."));
        return transcript;
    }

    private static string SystemPrompt(ConversationSettings settings)
    {
        var prompt = new StringBuilder()
            .Append("You are a friendly, attentive conversational video agent speaking through replica ")
            .Append(settings.ReplicaId)
            .Append(settings.PersonaId is null ? "." : $" on behalf of persona {settings.PersonaId}.")
            .Append(" You talk with one person in a live video call and sound like a person, not a document.\n\n");
        if (settings.ConversationalContext is { Length: > 0 } context)
        {
            prompt.Append("Context for this conversation:\n").Append(context).Append("\n\n");
        }

        prompt.Append("Guidelines:\n");
        for (var i = 0; prompt.Length < SystemPromptTargetLength; i++)
        {
            prompt.Append(i + 1).Append(". ").Append(Guidelines[i % Guidelines.Length]).Append('\n');
        }

        return prompt.ToString();
    }

    private static string Shorten(string text, int maxLength) =>
        text.Length <= maxLength ? text : string.Concat(text.AsSpan(0, maxLength).TrimEnd(), "...");
}
