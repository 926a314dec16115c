using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;

namespace Sagas.UnitTests.Ordering;

/// <summary>What support reads: one entry per transition and per significant event, timed by the saga's clock.</summary>
public sealed class Order_timeline : OrderSagaSpec
{
    [Fact]
    public async Task Should_tell_the_story_of_an_order_placed_and_then_canceled_by_support()
    {
        await GivenAwaitingPayment();
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Deliver(new PaymentStillPending { OrderId = OrderId, ProviderReference = ProviderReference });
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Deliver(Payment(PaymentSources.Webhook));
        await Deliver(Payment(PaymentSources.Poll));
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Clock.GetUtcNow() });
        Clock.Advance(TimeSpan.FromMinutes(30));
        await Deliver(new CancelOrder { OrderId = OrderId, RequestedBy = CancelRequesters.Support, Reason = "damaged in transit" });
        Clock.Advance(TimeSpan.FromSeconds(2));
        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_5", Amount = Total });

        Assert.Equal(
        [
            (Start, "SubmitOrder", null, "Submitted"),
            (Start, "StockHeld", "Submitted", "AwaitingPayment"),
            (Start, "PaymentRequested", "AwaitingPayment", "AwaitingPayment"),
            (Start.AddSeconds(10), "PaymentSucceeded", "AwaitingPayment", "Placing"),
            (Start.AddSeconds(11), "StockCommitted", "Placing", "Placed"),
            (Start.AddSeconds(1811), "CancelOrder", "Placed", "Compensating"),
            (Start.AddSeconds(1813), "StockReleased", "Compensating", "Compensating"),
            (Start.AddSeconds(1813), "PaymentRefunded", "Compensating", "Canceled"),
        ], Order.Timeline.Select(e => (e.At, e.Event, (string?)e.FromState, e.ToState)));
        Assert.Equal(
        [
            "paid 49.99 USD (webhook) at 2026-11-27T09:00:10.0000000+00:00; placing the order",
            "stock committed; order placed",
            "canceled by support: damaged in transit; refund and stock release requested",
            "stock released; waiting for the refund",
            "refund rf_5 of 49.99 confirmed; compensation complete",
        ], Order.Timeline.Skip(3).Select(e => e.Detail));
        Assert.Equal(Start.AddSeconds(1813), Order.UpdatedAt);
        AssertTimelineIsConsistent();
    }
}
