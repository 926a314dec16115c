using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>A payment reported after the order ended can never place it: the money goes back, exactly once.</summary>
public sealed class Late_payment : OrderSagaSpec
{
    [Theory]
    [InlineData(OrderStatuses.Expired)]
    [InlineData(OrderStatuses.Canceled)]
    [InlineData(OrderStatuses.Failed)]
    [InlineData(OrderStatuses.Rejected)]
    public async Task Should_be_refunded_and_leave_the_order_as_it_ended(string ended)
    {
        await GivenEnded(ended);
        var failureReason = Order.FailureReason;

        await Deliver(Payment(PaymentSources.Cancel));

        var refund = Assert.Single(Published<RefundPayment>());
        Assert.Equal(new RefundPayment
        {
            OrderId = OrderId, ProviderReference = ProviderReference, Amount = Total, Currency = Currency, Reason = "late-payment",
        }, refund);
        Assert.Equal(ended, Order.CurrentState);
        Assert.Equal(failureReason, Order.FailureReason);
        Assert.Equal(PaymentStatus.Succeeded, Order.PaymentStatus);
        Assert.NotNull(Order.RefundRequestedAt);
        var entry = Order.Timeline[^1];
        Assert.Equal(("PaymentSucceeded", ended, ended), (entry.Event, entry.FromState, entry.ToState));
        Assert.Equal("late payment of 49.99 USD (cancel); refund requested", entry.Detail);
        AssertTimelineIsConsistent();
    }

    [Theory]
    [InlineData(OrderStatuses.Expired)]
    [InlineData(OrderStatuses.Canceled)]
    public async Task Should_be_refunded_once_however_often_it_is_reported(string ended)
    {
        await GivenEnded(ended);

        await Deliver(Payment(PaymentSources.Cancel));
        await Task.WhenAll(Deliver(Payment(PaymentSources.Webhook)), Deliver(Payment(PaymentSources.Poll)));

        Assert.Single(Published<RefundPayment>());
        Assert.Single(Order.Timeline, e => e.Detail?.StartsWith("late payment") == true);
    }

    [Fact]
    public async Task Should_record_the_refund_when_the_provider_confirms_it()
    {
        await GivenEnded(OrderStatuses.Expired);
        await Deliver(Payment());

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_9", Amount = Total });

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        Assert.Equal("rf_9", Order.RefundId);
        Assert.NotNull(Order.RefundedAt);
        Assert.Equal("refund rf_9 of 49.99 confirmed", Order.Timeline[^1].Detail);

        await Deliver(Payment(PaymentSources.Poll));
        Assert.Single(Published<RefundPayment>());
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
    }

    [Fact]
    public async Task Should_be_refunded_when_it_races_a_cancel_and_only_then_end_canceled()
    {
        await GivenAwaitingPayment();
        await Deliver(new Contracts.Ordering.CancelOrder { OrderId = OrderId, RequestedBy = Contracts.Ordering.CancelRequesters.Storefront });

        await Deliver(Payment(PaymentSources.Cancel));
        await Deliver(new Contracts.Inventory.StockReleased { OrderId = OrderId });

        Assert.Single(Published<RefundPayment>());
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_2", Amount = Total });

        Assert.Equal(OrderStatuses.Canceled, Order.CurrentState);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        AssertTimelineIsConsistent();
    }
}
