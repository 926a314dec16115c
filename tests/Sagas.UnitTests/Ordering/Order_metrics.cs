using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>What the saga's metrics say about an order: each transition once, times measured from the Api's acceptance.</summary>
public sealed class Order_metrics : OrderSagaSpec
{
    [Fact]
    public async Task Should_count_each_transition_once_and_time_the_qr_code_and_the_placement_from_acceptance()
    {
        // Accepted at Start - 2 s; the QR code arrives at Start.
        await GivenAwaitingPayment();
        Clock.Advance(TimeSpan.FromSeconds(30));
        await Deliver(Payment());
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Clock.GetUtcNow() });

        Assert.Equal(1, Transitions("Initial", "Submitted", "SubmitOrder"));
        Assert.Equal(1, Transitions("Submitted", "AwaitingPayment", "StockHeld"));
        Assert.Equal(1, Transitions("AwaitingPayment", "Placing", "PaymentSucceeded"));
        Assert.Equal(1, Transitions("Placing", "Placed", "StockCommitted"));
        Assert.Equal(4, Metrics.Count("sagas.order.transitions"));
        Assert.Equal(1, Metrics.Count("sagas.order.time_to_qr"));
        Assert.Equal(2, Metrics.Sum("sagas.order.time_to_qr"));
        Assert.Equal(32, Metrics.Sum("sagas.order.time_to_final_state", ("state", OrderStatuses.Placed)));
        Assert.Equal(1, Metrics.Sum("sagas.order.outcomes", ("state", OrderStatuses.Placed), ("reason", "none")));
    }

    [Fact]
    public async Task Should_time_the_qr_code_once_however_often_it_is_reported()
    {
        await GivenAwaitingPayment();

        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://pay/7f3a", ExpiresAt = Deadline });

        Assert.Equal(1, Metrics.Count("sagas.order.time_to_qr"));
    }

    [Theory]
    [InlineData(OrderStatuses.Rejected, OrderFailureReasons.InsufficientStock)]
    [InlineData(OrderStatuses.Expired, OrderFailureReasons.PaymentExpired)]
    [InlineData(OrderStatuses.Failed, OrderFailureReasons.PaymentFailed)]
    [InlineData(OrderStatuses.Canceled, OrderFailureReasons.Canceled)]
    public async Task Should_count_an_order_that_was_not_placed_by_its_final_state_and_reason(string state, string reason)
    {
        await GivenEnded(state);

        Assert.Equal(1, Metrics.Sum("sagas.order.outcomes", ("state", state), ("reason", reason)));
        Assert.Equal(1, Metrics.Count("sagas.order.outcomes"));
        Assert.Equal(1, Metrics.Count("sagas.order.time_to_final_state", ("state", state)));
    }

    [Fact]
    public async Task Should_count_a_late_payment_its_refund_and_a_refusal_that_needs_attention()
    {
        await GivenEnded(OrderStatuses.Expired);
        await Deliver(Payment());
        var refund = Assert.Single(Published<RefundPayment>());

        await DeliverFault(refund, ProviderRefused, "payment provider refused the request: 422 refunds are rejected");
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_9", Amount = Total });

        Assert.Equal(1, Metrics.Sum("sagas.order.late_payments"));
        Assert.Equal(1, Metrics.Sum("sagas.order.refunds.requested", ("reason", "late-payment")));
        Assert.Equal(1, Metrics.Sum("sagas.order.attention.flagged", ("reason", AttentionReasons.RefundRefused)));
        Assert.Equal(1, Metrics.Sum("sagas.order.refunds.confirmed"));
    }

    double Transitions(string from, string to, string @event) =>
        Metrics.Sum("sagas.order.transitions", ("from", from), ("to", to), ("event", @event));
}
