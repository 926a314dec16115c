using System.Globalization;
using System.Text.Json;
using MassTransit;
using MassTransit.Scheduling;
using MassTransit.Serialization;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// What is kept of a <see cref="ScheduleMessage"/> until it fires: the payload as the JSON it arrived as, the
/// message types it was sent as, where it goes, the id it will carry, and the envelope values and custom headers
/// of the scheduling message that the fired message should still have. Stored as plain strings in the Quartz
/// job's data map, so a row in <c>qrtz_job_details</c> is readable and survives a change of serializer.
/// </summary>
public sealed record StoredScheduledMessage
{
    public required Guid TokenId { get; init; }
    public required DateTime ScheduledTimeUtc { get; init; }
    public required Uri Destination { get; init; }
    public required string[] MessageTypes { get; init; }
    public required string PayloadJson { get; init; }
    public required Guid MessageId { get; init; }
    public Guid? CorrelationId { get; init; }
    public Guid? ConversationId { get; init; }
    public Guid? InitiatorId { get; init; }
    public Guid? RequestId { get; init; }
    public Uri? SourceAddress { get; init; }
    public Uri? ResponseAddress { get; init; }
    public Uri? FaultAddress { get; init; }
    public IReadOnlyDictionary<string, object> Headers { get; init; } = new Dictionary<string, object>();

    static class Keys
    {
        public const string TokenId = "TokenId";
        public const string ScheduledTime = "ScheduledTime";
        public const string Destination = "Destination";
        public const string MessageType = "MessageType";
        public const string Payload = "Payload";
        public const string MessageId = "MessageId";
        public const string CorrelationId = "CorrelationId";
        public const string ConversationId = "ConversationId";
        public const string InitiatorId = "InitiatorId";
        public const string RequestId = "RequestId";
        public const string SourceAddress = "SourceAddress";
        public const string ResponseAddress = "ResponseAddress";
        public const string FaultAddress = "FaultAddress";
        public const string Headers = "Headers";
    }

    /// <summary>What the scheduler consumer keeps of a <see cref="ScheduleMessage"/> it received.</summary>
    public static StoredScheduledMessage From(ConsumeContext<ScheduleMessage> context) =>
        From(context.Message, new Envelope(context.CorrelationId, context.ConversationId, context.InitiatorId, context.RequestId,
            context.SourceAddress, context.ResponseAddress, context.FaultAddress, context.Headers.GetAll()));

    /// <summary>
    /// The same, taken from a <see cref="ScheduleMessage"/> being sent: the inbox keeps a consumer's timers in its own
    /// outbox instead of sending them to the scheduler (see <c>Outbox/OutboxTimers.cs</c>).
    /// </summary>
    public static StoredScheduledMessage From(SendContext<ScheduleMessage> context) =>
        From(context.Message, new Envelope(context.CorrelationId, context.ConversationId, context.InitiatorId, context.RequestId,
            context.SourceAddress, context.ResponseAddress, context.FaultAddress, context.Headers.GetAll()));

    /// <summary>The envelope values and headers of the scheduling message, received or being sent.</summary>
    sealed record Envelope(Guid? CorrelationId, Guid? ConversationId, Guid? InitiatorId, Guid? RequestId, Uri? SourceAddress,
        Uri? ResponseAddress, Uri? FaultAddress, IEnumerable<KeyValuePair<string, object>> Headers);

    static StoredScheduledMessage From(ScheduleMessage message, Envelope envelope)
    {
        if (message.Destination is null)
            throw new ArgumentException($"ScheduleMessage {message.CorrelationId} has no destination");
        if (message.PayloadType is not { Length: > 0 })
            throw new ArgumentException($"ScheduleMessage {message.CorrelationId} has no payload type");

        var payload = message.Payload switch
        {
            null => throw new ArgumentException($"ScheduleMessage {message.CorrelationId} has no payload"),
            JsonElement element => element.Clone(),
            var other => JsonSerializer.SerializeToElement(other, SystemTextJsonMessageSerializer.Options),
        };
        var scheduledTime = message.ScheduledTime.Kind switch
        {
            DateTimeKind.Utc => message.ScheduledTime,
            DateTimeKind.Local => message.ScheduledTime.ToUniversalTime(),
            _ => DateTime.SpecifyKind(message.ScheduledTime, DateTimeKind.Utc), // MassTransit schedules in UTC
        };

        return new StoredScheduledMessage
        {
            TokenId = message.CorrelationId,
            ScheduledTimeUtc = scheduledTime,
            Destination = message.Destination,
            MessageTypes = message.PayloadType,
            PayloadJson = payload.GetRawText(),
            MessageId = ScheduledMessageIds.For(message.CorrelationId, scheduledTime),
            CorrelationId = CorrelationOf(envelope.CorrelationId, message, payload),
            ConversationId = envelope.ConversationId,
            InitiatorId = envelope.InitiatorId,
            RequestId = envelope.RequestId,
            SourceAddress = envelope.SourceAddress,
            ResponseAddress = envelope.ResponseAddress,
            FaultAddress = envelope.FaultAddress,
            Headers = envelope.Headers
                .Where(header => IsWorthKeeping(header.Key) && header.Value is not null)
                .GroupBy(header => header.Key, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(group => group.Key, group => group.Last().Value, StringComparer.OrdinalIgnoreCase),
        };
    }

    /// <summary>
    /// The envelope CorrelationId the fired message should carry. The scheduling message's own is the token id
    /// (MassTransit's convention picks up <c>ScheduleMessage.CorrelationId</c>) unless the scheduling code set one
    /// explicitly, which wins; otherwise it is the payload's <c>CorrelationId</c>, as a direct send of the payload
    /// would have set it.
    /// </summary>
    static Guid? CorrelationOf(Guid? envelopeCorrelationId, ScheduleMessage message, JsonElement payload)
    {
        if (envelopeCorrelationId is { } explicitId && explicitId != message.CorrelationId)
            return explicitId;

        if (payload.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in payload.EnumerateObject())
            {
                if (property.NameEquals("correlationId") || property.NameEquals("CorrelationId"))
                    return property.Value.ValueKind == JsonValueKind.String && property.Value.TryGetGuid(out var id) ? id : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Custom headers travel with the timer; what describes the scheduling message's own delivery (redelivery
    /// count, fault details, a previous timer's token or Quartz stamps, the envelope fields kept separately) does not.
    /// </summary>
    static bool IsWorthKeeping(string key) => key switch
    {
        MessageHeaders.SchedulingTokenId or MessageHeaders.RedeliveryCount or MessageHeaders.QuartzTriggerKey => false,
        MessageHeaders.MessageId or MessageHeaders.CorrelationId or MessageHeaders.ConversationId or MessageHeaders.RequestId
            or MessageHeaders.InitiatorId or MessageHeaders.SourceAddress or MessageHeaders.ResponseAddress
            or MessageHeaders.FaultAddress or MessageHeaders.MessageType or MessageHeaders.ContentType
            or MessageHeaders.TransportMessageId or MessageHeaders.TransportSentTime => false,
        _ when key.StartsWith("MT-Quartz-", StringComparison.OrdinalIgnoreCase) => false,
        _ when key.StartsWith("MT-Fault-", StringComparison.OrdinalIgnoreCase) => false,
        _ when key.StartsWith("MT-Host-", StringComparison.OrdinalIgnoreCase) => false,
        _ when key.Equals(MessageHeaders.Reason, StringComparison.OrdinalIgnoreCase) => false,
        _ => true,
    };

    public JobDataMap ToJobData()
    {
        var data = new JobDataMap
        {
            [Keys.TokenId] = TokenId.ToString("D"),
            [Keys.ScheduledTime] = ScheduledTimeUtc.ToString("O", CultureInfo.InvariantCulture),
            [Keys.Destination] = Destination.ToString(),
            [Keys.MessageType] = string.Join(';', MessageTypes),
            [Keys.Payload] = PayloadJson,
            [Keys.MessageId] = MessageId.ToString("D"),
        };
        Put(data, Keys.CorrelationId, CorrelationId?.ToString("D"));
        Put(data, Keys.ConversationId, ConversationId?.ToString("D"));
        Put(data, Keys.InitiatorId, InitiatorId?.ToString("D"));
        Put(data, Keys.RequestId, RequestId?.ToString("D"));
        Put(data, Keys.SourceAddress, SourceAddress?.ToString());
        Put(data, Keys.ResponseAddress, ResponseAddress?.ToString());
        Put(data, Keys.FaultAddress, FaultAddress?.ToString());
        if (Headers.Count > 0)
            data[Keys.Headers] = JsonSerializer.Serialize(Headers, SystemTextJsonMessageSerializer.Options);
        return data;
    }

    public static StoredScheduledMessage FromJobData(JobDataMap data) => new()
    {
        TokenId = Guid.Parse(Required(data, Keys.TokenId)),
        ScheduledTimeUtc = DateTime.Parse(Required(data, Keys.ScheduledTime), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        Destination = new Uri(Required(data, Keys.Destination)),
        MessageTypes = Required(data, Keys.MessageType).Split(';', StringSplitOptions.RemoveEmptyEntries),
        PayloadJson = Required(data, Keys.Payload),
        MessageId = Guid.Parse(Required(data, Keys.MessageId)),
        CorrelationId = OptionalGuid(data, Keys.CorrelationId),
        ConversationId = OptionalGuid(data, Keys.ConversationId),
        InitiatorId = OptionalGuid(data, Keys.InitiatorId),
        RequestId = OptionalGuid(data, Keys.RequestId),
        SourceAddress = OptionalUri(data, Keys.SourceAddress),
        ResponseAddress = OptionalUri(data, Keys.ResponseAddress),
        FaultAddress = OptionalUri(data, Keys.FaultAddress),
        Headers = Optional(data, Keys.Headers) is { } json ? ReadHeaders(json) : new Dictionary<string, object>(),
    };

    static Dictionary<string, object> ReadHeaders(string json)
    {
        var headers = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!)
        {
            // Transport headers (RabbitMQ's table among them) take primitives; anything structured travels as its JSON text.
            object? primitive = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number when value.TryGetInt64(out var integer) => integer,
                JsonValueKind.Number => value.GetDouble(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            };
            if (primitive is not null)
                headers[key] = primitive;
        }

        return headers;
    }

    static void Put(JobDataMap data, string key, string? value)
    {
        if (value is not null)
            data[key] = value;
    }

    static string? Optional(JobDataMap data, string key) =>
        data.TryGetString(key, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    static string Required(JobDataMap data, string key) =>
        Optional(data, key) ?? throw new FormatException($"scheduled message job data lacks '{key}'");

    static Guid? OptionalGuid(JobDataMap data, string key) => Optional(data, key) is { } text ? Guid.Parse(text) : null;

    static Uri? OptionalUri(JobDataMap data, string key) => Optional(data, key) is { } text ? new Uri(text) : null;
}
