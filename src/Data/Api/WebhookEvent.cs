namespace Sagas.Data.Api;

/// <summary>A provider webhook accepted once; its <see cref="EventId"/> deduplicates repeats.</summary>
public sealed class WebhookEvent
{
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public required string ProviderReference { get; init; }
    public required string MerchantReference { get; init; }
    public decimal Amount { get; init; }
    public required string Currency { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}
