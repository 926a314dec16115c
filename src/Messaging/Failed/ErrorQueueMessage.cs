using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using RabbitMQ.Client;

namespace Sagas.Messaging.Failed;

/// <summary>
/// What a message on an error queue tells about its failure, read from MassTransit's fault headers (set by its error
/// transport as it moves the message: <c>MT-Fault-ExceptionType</c>, <c>MT-Fault-Message</c>, <c>MT-Fault-Timestamp</c>)
/// and, when the body is a MassTransit JSON envelope, its message type and correlation.
/// </summary>
public sealed record ErrorQueueMessage(
    Guid MessageId,
    string Queue,
    string MessageType,
    Guid? CorrelationId,
    string ExceptionType,
    string Reason,
    DateTimeOffset FailedAt,
    string? ContentType,
    byte[] Body,
    IReadOnlyDictionary<string, string> Headers)
{
    const string Unknown = "unknown";

    public static ErrorQueueMessage Read(string queue, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (properties.Headers is { } raw)
            foreach (var (name, value) in raw)
                if (Text(value) is { } text)
                    headers[name] = text;

        var bytes = body.ToArray();
        var failedAt = headers.TryGetValue(MessageHeaders.FaultTimestamp, out var stamp)
                       && DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : now;
        var (messageType, correlationId) = Envelope(bytes);
        var messageId = Guid.TryParse(properties.MessageId, out var id) ? id : DerivedId(queue, bytes, stamp);
        return new ErrorQueueMessage(messageId, queue, messageType, correlationId,
            headers.GetValueOrDefault(MessageHeaders.FaultExceptionType) ?? Unknown,
            headers.GetValueOrDefault(MessageHeaders.FaultMessage) ?? headers.GetValueOrDefault(MessageHeaders.Reason) ?? Unknown,
            failedAt, properties.ContentType, bytes, headers);
    }

    /// <summary>
    /// A message without a MessageId (raw bytes someone published) still needs a stable key, so that a redelivery of
    /// the same error message finds its row: its queue, body and the time it failed.
    /// </summary>
    static Guid DerivedId(string queue, byte[] body, string? failedAt)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(queue + "\n" + failedAt + "\n"));
        hash.AppendData(body);
        return new Guid(hash.GetHashAndReset().AsSpan(0, 16));
    }

    /// <summary>The first message type (without <c>urn:message:</c>) and the orderId/correlationId of an envelope, if it is one.</summary>
    static (string MessageType, Guid? CorrelationId) Envelope(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (Unknown, null);
            var type = Property(root, "messageType") is { ValueKind: JsonValueKind.Array } types && types.GetArrayLength() > 0
                       && types[0].GetString() is { } urn
                ? urn.Replace("urn:message:", "", StringComparison.Ordinal)
                : Unknown;
            var message = Property(root, "message");
            var correlation = GuidOf(message is { ValueKind: JsonValueKind.Object } m ? Property(m, "orderId") : null)
                              ?? GuidOf(message is { ValueKind: JsonValueKind.Object } c ? Property(c, "correlationId") : null)
                              ?? GuidOf(Property(root, "correlationId"));
            return (type, correlation);
        }
        catch (JsonException)
        {
            return (Unknown, null);
        }
    }

    static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                return property.Value;
        return null;
    }

    static Guid? GuidOf(JsonElement? element) =>
        element is { ValueKind: JsonValueKind.String } value && Guid.TryParse(value.GetString(), out var id) ? id : null;

    static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        AmqpTimestamp time => DateTimeOffset.FromUnixTimeSeconds(time.UnixTime).ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
