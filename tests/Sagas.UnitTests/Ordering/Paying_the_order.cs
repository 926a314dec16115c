using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Paying_the_order : OrderSagaSpec
{
    [Fact]
    public async Task Should_place_the_order_with_what_was_paid()
    {
        await GivenAwaitingPayment();

        await Deliver(Payment(PaymentSources.Poll));

        var place = Assert.Single(Published<PlaceOrder>());
        Assert.Equal(new PlaceOrder { OrderId = OrderId, ProviderReference = ProviderReference, PaidAmount = Total, Currency = Currency }, place);
        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Equal(PaymentStatus.Succeeded, Order.PaymentStatus);
        Assert.Equal(Total, Order.PaidAmount);
    }

    [Fact]
    public async Task Should_stop_polling_and_keep_the_deadline_timer_as_the_placement_watchdog()
    {
        await GivenAwaitingPayment();
        var window = Order.PaymentWindowTokenId;

        await Deliver(Payment(paidAt: Start.AddSeconds(30)));

        Assert.Null(Order.PaymentPollTokenId);
        Assert.Equal(window, Order.PaymentWindowTokenId);
        Assert.Null(Order.PendingWorkTokenId);
        Assert.Equal(Start.AddSeconds(30), Order.PaidAt);
    }

    [Fact]
    public async Task Should_place_once_when_poll_and_webhook_report_it_together()
    {
        await GivenAwaitingPayment();

        await Task.WhenAll(Deliver(Payment(PaymentSources.Poll)), Deliver(Payment(PaymentSources.Webhook)));

        Assert.Single(Published<PlaceOrder>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Single(Transitions(), t => t.StartsWith("PaymentSucceeded"));
    }

    [Fact]
    public async Task Should_ignore_the_payment_reported_again_while_placing()
    {
        await GivenPlacing();

        await Deliver(Payment(PaymentSources.Poll));

        Assert.Single(Published<PlaceOrder>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
    }

    [Fact]
    public async Task Should_ignore_the_payment_reported_again_once_placed()
    {
        await GivenPlaced();
        var entries = Order.Timeline.Count;

        await Deliver(Payment(PaymentSources.Poll));
        await Deliver(Payment(PaymentSources.Cancel));

        Assert.Single(Published<PlaceOrder>());
        Assert.Empty(Published<RefundPayment>());
        Assert.Equal(OrderStatuses.Placed, Order.CurrentState);
        Assert.Equal(entries, Order.Timeline.Count);
    }
}

public sealed class Paying_the_wrong_amount : OrderSagaSpec
{
    [Theory]
    [InlineData(49.98, Currency)]
    [InlineData(50.00, Currency)]
    [InlineData(49.99, "EUR")]
    public async Task Should_never_place_the_order_and_refund_what_was_paid(decimal amount, string currency)
    {
        await GivenAwaitingPayment();

        await Deliver(Payment(amount: amount, currency: currency));

        Assert.Empty(Published<PlaceOrder>());
        var refund = Assert.Single(Published<RefundPayment>());
        Assert.Equal((OrderId, ProviderReference, amount, currency), (refund.OrderId, refund.ProviderReference, refund.Amount, refund.Currency));
        Assert.Equal(OrderFailureReasons.AmountMismatch, Assert.Single(Published<ReleaseStock>()).Reason);
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.AmountMismatch, Order.FailureReason);
        Assert.Equal(amount, Order.PaidAmount);
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);
    }

    [Fact]
    public async Task Should_accept_the_currency_code_in_any_case()
    {
        await GivenAwaitingPayment();

        await Deliver(Payment(currency: "usd"));

        Assert.Single(Published<PlaceOrder>());
    }

    [Fact]
    public async Task Should_refund_once_when_the_mismatched_payment_is_reported_again()
    {
        await GivenAwaitingPayment();

        await Deliver(Payment(amount: 10m));
        await Deliver(Payment(PaymentSources.Poll, amount: 10m));

        Assert.Single(Published<RefundPayment>());
        Assert.Empty(Published<PlaceOrder>());
    }

    [Fact]
    public async Task Should_fail_once_the_refund_and_the_release_are_confirmed()
    {
        await GivenAwaitingPayment();
        await Deliver(Payment(amount: 10m));

        await Deliver(new PaymentRefunded { OrderId = OrderId, RefundId = "rf_1", Amount = 10m });
        Assert.Equal(OrderStatuses.Compensating, Order.CurrentState);
        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Equal(OrderStatuses.Failed, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.AmountMismatch, Order.FailureReason);
        Assert.Equal(PaymentStatus.Refunded, Order.PaymentStatus);
        Assert.Equal(
            ["SubmitOrder: - -> Submitted", "StockHeld: Submitted -> AwaitingPayment", "PaymentSucceeded: AwaitingPayment -> Compensating",
             "StockReleased: Compensating -> Failed"],
            Transitions());
        Assert.StartsWith("amount mismatch: paid 10.00 USD (webhook), expected 49.99 USD",
            Order.Timeline.Single(e => e.FromState != e.ToState && e.ToState == OrderStatuses.Compensating).Detail);
        AssertTimelineIsConsistent();
    }
}
