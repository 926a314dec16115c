using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Ordering;

/// <summary>
/// The messages the order saga sends, built from the order as it stands. Every one of them may be sent again (the
/// pending-work timer, support's retry): each is idempotent at its consumer, keyed by the order.
/// </summary>
static class OrderCommands
{
    public static HoldStock HoldStock(OrderState order, SagaTimings timings) => new()
    {
        OrderId = order.CorrelationId,
        Lines = order.Lines.Select(l => new StockLine { Sku = l.Sku, Quantity = l.Quantity }).ToList(),
        HoldFor = timings.HoldFor,
    };

    public static RequestPayment RequestPayment(OrderState order, SagaTimings timings) => new()
    {
        OrderId = order.CorrelationId,
        Amount = order.Total,
        Currency = order.Currency,
        PaymentWindow = timings.PaymentWindow,
        HoldAfterDeadline = timings.HoldAfterDeadline,
    };

    public static PlaceOrder PlaceOrder(OrderState order) => new()
    {
        OrderId = order.CorrelationId,
        ProviderReference = order.ProviderReference!,
        PaidAmount = order.PaidAmount ?? order.Total,
        Currency = order.Currency,
    };

    public static ReleaseStock ReleaseStock(OrderState order) => new()
    {
        OrderId = order.CorrelationId,
        Reason = order.FailureReason ?? OrderFailureReasons.Canceled,
    };

    public static CancelPayment CancelPayment(OrderState order) => new()
    {
        OrderId = order.CorrelationId,
        ProviderReference = order.ProviderReference!,
    };

    /// <summary>Gives back what the customer actually paid (which may differ from the order's total).</summary>
    public static RefundPayment RefundPayment(OrderState order) => new()
    {
        OrderId = order.CorrelationId,
        ProviderReference = order.ProviderReference!,
        Amount = order.PaidAmount ?? order.Total,
        Currency = order.PaidCurrency ?? order.Currency,
        Reason = order.RefundReason ?? order.FailureReason ?? "",
    };

    public static OrderPlaced OrderPlaced(OrderState order) => new()
    {
        OrderId = order.CorrelationId,
        PlacedAt = order.PlacedAt!.Value,
    };

    public static PaymentWindowExpired PaymentWindowExpired(OrderState order) => new() { OrderId = order.CorrelationId };
    public static PendingWorkDue PendingWorkDue(OrderState order) => new() { OrderId = order.CorrelationId };
}
