using MassTransit;
using MassTransit.Context;
using MassTransit.Metadata;
using MassTransit.Middleware;
using MassTransit.Serialization;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// A serialized message of a bus outbox (<see cref="OutboxId"/>) waiting for the broker (<c>messaging.outbox_message</c>):
/// published or sent in a request scope, or by a consumer behind the inbox.
/// Everything MassTransit needs to send it again as it was is kept: ids, addresses, headers, content type,
/// message types, body and transport properties (RabbitMQ exchange, routing key, priority, ...).
/// </summary>
public sealed class OutboxMessage : OutboxMessageContext
{
    // Headers and transport properties are stored as JSON written by MassTransit's own object serializer,
    // which also reads them back with the value types the transport expects.
    static IObjectDeserializer Json => SystemTextJsonMessageSerializer.Instance;

    Headers? _headers;
    IReadOnlyDictionary<string, object>? _properties;

    public long Id { get; set; }
    public Guid OutboxId { get; set; }
    public long SequenceNumber { get; set; }

    /// <summary>Set by the database (transaction start); the operations figure measures from it.</summary>
    public DateTime EnqueuedAt { get; set; }

    public Guid MessageId { get; set; }
    public Guid? ConversationId { get; set; }
    public Guid? CorrelationId { get; set; }
    public Guid? InitiatorId { get; set; }
    public Guid? RequestId { get; set; }
    public string? SourceAddress { get; set; }
    public string? DestinationAddress { get; set; }
    public string? ResponseAddress { get; set; }
    public string? FaultAddress { get; set; }
    public DateTime SentTime { get; set; }
    public DateTime? ExpirationTime { get; set; }
    public string ContentType { get; set; } = null!;
    public string MessageType { get; set; } = null!;
    public string Body { get; set; } = null!;
    public string? HeadersJson { get; set; }
    public string? PropertiesJson { get; set; }

    /// <summary>Captures a message that MassTransit was about to send, with everything needed to send it later.</summary>
    public static OutboxMessage Capture<T>(SendContext<T> context)
        where T : class
    {
        if (context.MessageId is not { } messageId)
            throw new MessageException(typeof(T), "An outbox message needs a MessageId");

        // MassTransit's clock, not the application's TimeProvider: MassTransit stamps SentTime itself from the system
        // clock and reads a stored expiration back against it when the message is sent; a test's clock must not set
        // these apart.
        var now = DateTime.UtcNow;
        var message = new OutboxMessage
        {
            MessageId = messageId,
            ConversationId = context.ConversationId,
            CorrelationId = context.CorrelationId,
            InitiatorId = context.InitiatorId,
            RequestId = context.RequestId,
            SourceAddress = context.SourceAddress?.ToString(),
            DestinationAddress = context.DestinationAddress?.ToString(),
            ResponseAddress = context.ResponseAddress?.ToString(),
            FaultAddress = context.FaultAddress?.ToString(),
            SentTime = context.SentTime ?? now,
            ExpirationTime = context.TimeToLive is { } ttl ? now + ttl : null,
            ContentType = (context.ContentType ?? context.Serialization.DefaultContentType).ToString(),
            MessageType = string.Join(";", context.SupportedMessageTypes),
            Body = context.Serializer.GetMessageBody(context).GetString(),
            HeadersJson = Json.SerializeDictionary(context.Headers.GetAll()),
        };

        if (context is TransportSendContext<T> transportContext)
        {
            var properties = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            transportContext.WritePropertiesTo(properties);
            message.PropertiesJson = Json.SerializeDictionary(properties);
        }

        return message;
    }

    Guid? MessageContext.MessageId => MessageId;
    DateTime? MessageContext.SentTime => SentTime;
    Uri? MessageContext.SourceAddress => ToUri(SourceAddress);
    Uri? MessageContext.DestinationAddress => ToUri(DestinationAddress);
    Uri? MessageContext.ResponseAddress => ToUri(ResponseAddress);
    Uri? MessageContext.FaultAddress => ToUri(FaultAddress);
    HostInfo MessageContext.Host => HostMetadataCache.Host;

    Headers MessageContext.Headers => _headers ??=
        Json.DeserializeDictionary<object?>(HeadersJson) is { } headers ? new DictionarySendHeaders(headers) : EmptyHeaders.Instance;

    IReadOnlyDictionary<string, object> OutboxMessageContext.Properties => _properties ??=
        Json.DeserializeDictionary<object>(PropertiesJson) ?? new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);

    static Uri? ToUri(string? address) => address is null ? null : new Uri(address);
}
