using MassTransit;
using Sagas.Contracts.Ordering;

namespace Sagas.Data.Ordering;

/// <summary>
/// One order's saga instance (<see cref="CorrelationId"/> is the order id), driven by the order state machine in
/// Workers and read by the Api for status and support queries. The row is never deleted: final orders keep
/// answering queries and still take a late payment to refund it.
/// </summary>
public sealed class OrderState : SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }

    /// <summary>The state's name, one of <see cref="OrderStatuses"/>: what the Api reports as the order's status.</summary>
    public string CurrentState { get; set; } = "";

    public string CustomerId { get; set; } = "";
    public string Currency { get; set; } = "";
    public decimal Total { get; set; }
    public List<OrderLine> Lines { get; set; } = [];

    /// <summary>When the Api accepted the order.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the last timeline entry was recorded; payment polls that change nothing do not move it.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? HoldUntil { get; set; }

    /// <summary>When the saga last asked for the stock back; pending until <see cref="StockReleasedAt"/> is set.</summary>
    public DateTimeOffset? ReleaseRequestedAt { get; set; }

    public DateTimeOffset? StockReleasedAt { get; set; }

    public string? ProviderReference { get; set; }
    public string? QrPayload { get; set; }
    public DateTimeOffset? PaymentExpiresAt { get; set; }
    public PaymentStatus? PaymentStatus { get; set; }

    /// <summary>When the customer paid, as the provider states it.</summary>
    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>When the saga asked the provider to withdraw the QR payment (deadline passed, cancel, hold overdue).</summary>
    public DateTimeOffset? PaymentCancelRequestedAt { get; set; }

    /// <summary>
    /// When the provider confirmed the QR payment is settled: nobody can pay it any more (canceled, expired, failed) or
    /// it was captured. Until then a withdrawal that was asked for is still pending.
    /// </summary>
    public DateTimeOffset? PaymentClosedAt { get; set; }

    /// <summary>What the customer actually paid (in the order's currency unless the payment was a mismatch).</summary>
    public decimal? PaidAmount { get; set; }

    /// <summary>The currency of <see cref="PaidAmount"/>: the order's, unless the payment was a mismatch.</summary>
    public string? PaidCurrency { get; set; }

    public DateTimeOffset? PlacedAt { get; set; }

    /// <summary>Set when the one refund this order may ever get was asked for; never cleared.</summary>
    public DateTimeOffset? RefundRequestedAt { get; set; }

    /// <summary>Why the refund was asked for (<c>late-payment</c>, a failure reason): sent again with every retry.</summary>
    public string? RefundReason { get; set; }

    public string? RefundId { get; set; }
    public DateTimeOffset? RefundedAt { get; set; }

    /// <summary>One of <see cref="OrderFailureReasons"/> once the order cannot be placed (or was canceled).</summary>
    public string? FailureReason { get; set; }

    /// <summary><see cref="CancelRequesters.Storefront"/> or <see cref="CancelRequesters.Support"/> for a canceled order.</summary>
    public string? CanceledBy { get; set; }

    /// <summary>Token of the pending <c>PaymentWindowExpired</c> timer; a timer with any other token is stale.</summary>
    public Guid? PaymentWindowTokenId { get; set; }

    /// <summary>Token of the pending <c>PaymentPollDue</c> timer; a timer with any other token is stale.</summary>
    public Guid? PaymentPollTokenId { get; set; }

    /// <summary>Token of the pending <c>PendingWorkDue</c> timer, armed while the saga waits for a step it asked for.</summary>
    public Guid? PendingWorkTokenId { get; set; }

    /// <summary>How many times the pending work was issued again since it was first asked for.</summary>
    public int PendingWorkAttempts { get; set; }

    /// <summary>One of <c>AttentionReasons</c> while the order needs a person; cleared when the pending work completes.</summary>
    public string? AttentionReason { get; set; }

    public DateTimeOffset? AttentionSince { get; set; }
    public string? AttentionDetail { get; set; }

    /// <summary>
    /// Timeline entries recorded while handling the current message. The EF saga repository loads an order without
    /// its history and inserts whatever is in this list on save, in the same transaction as the order row; the
    /// in-memory repository simply keeps every entry here. Read the full history from <c>ordering.order_timeline</c>.
    /// </summary>
    public List<OrderTimelineEntry> Timeline { get; set; } = [];

    /// <summary>Appends a timeline entry and marks the order as updated at <paramref name="at"/>.</summary>
    public void Record(DateTimeOffset at, string @event, string? fromState, string toState, string? detail)
    {
        Timeline.Add(new OrderTimelineEntry
        {
            OrderId = CorrelationId,
            At = at,
            Event = @event,
            FromState = fromState,
            ToState = toState,
            Detail = detail,
        });
        UpdatedAt = at;
    }
}
