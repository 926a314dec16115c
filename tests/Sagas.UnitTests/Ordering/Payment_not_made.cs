using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Payment_window_expiring : OrderSagaSpec
{
    [Fact]
    public async Task Should_expire_the_order_cancel_the_payment_and_release_the_stock()
    {
        await GivenAwaitingPayment();

        await PaymentWindowFires();

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.PaymentExpired, Order.FailureReason);
        Assert.Equal(PaymentStatus.Expired, Order.PaymentStatus);
        Assert.Equal(new CancelPayment { OrderId = OrderId, ProviderReference = ProviderReference }, Assert.Single(Published<CancelPayment>()));
        Assert.Equal(OrderFailureReasons.PaymentExpired, Assert.Single(Published<ReleaseStock>()).Reason);
        Assert.Empty(Published<RefundPayment>());
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);
        Assert.Equal("PaymentWindowExpired: AwaitingPayment -> Expired", Transitions()[^1]);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_cancel_a_qr_payment_created_only_after_the_window()
    {
        await GivenAwaitingPayment(qrReady: false);
        await PaymentWindowFires();
        Assert.Empty(Published<CancelPayment>());

        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://late", ExpiresAt = Start });

        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_record_the_stock_release_and_the_payment_cancel()
    {
        await GivenEnded(OrderStatuses.Expired);

        await Deliver(new StockReleased { OrderId = OrderId });
        await Deliver(new PaymentCanceled { OrderId = OrderId });

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.NotNull(Order.StockReleasedAt);
        Assert.Equal(["stock released", "payment canceled at the provider"], Order.Timeline.TakeLast(2).Select(e => e.Detail));
        AssertTimelineIsConsistent();
    }
}

public sealed class Payment_failing : OrderSagaSpec
{
    [Fact]
    public async Task Should_fail_the_order_cancel_the_payment_and_release_the_stock()
    {
        await GivenAwaitingPayment();

        await Deliver(new PaymentFailed { OrderId = OrderId, ProviderReference = ProviderReference, Reason = "declined" });

        Assert.Equal(OrderStatuses.Failed, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.PaymentFailed, Order.FailureReason);
        Assert.Equal(PaymentStatus.Failed, Order.PaymentStatus);
        Assert.Single(Published<CancelPayment>());
        Assert.Equal(OrderFailureReasons.PaymentFailed, Assert.Single(Published<ReleaseStock>()).Reason);
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);
        Assert.Equal("PaymentFailed: AwaitingPayment -> Failed", Transitions()[^1]);
        Assert.Contains("declined", Order.Timeline[^1].Detail);
    }

    [Fact]
    public async Task Should_ignore_the_failure_reported_again()
    {
        await GivenEnded(OrderStatuses.Failed);

        await Deliver(new PaymentFailed { OrderId = OrderId, ProviderReference = ProviderReference, Reason = "declined" });

        Assert.Single(Published<ReleaseStock>());
        Assert.Single(Published<CancelPayment>());
    }
}

public sealed class Stale_timers : OrderSagaSpec
{
    [Fact]
    public async Task Should_ignore_a_payment_window_expiry_with_another_token()
    {
        await GivenAwaitingPayment();

        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, Guid.NewGuid());

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.NotNull(Order.PaymentWindowTokenId);
        Assert.Empty(Published<CancelPayment>());
        Assert.Empty(Published<ReleaseStock>());
    }

    [Fact]
    public async Task Should_ignore_a_poll_with_another_token()
    {
        await GivenAwaitingPayment();

        await DeliverTimer(new PaymentPollDue { OrderId = OrderId }, Guid.NewGuid());

        Assert.Empty(Published<CheckPaymentStatus>());
        Assert.Single(Scheduled<PaymentPollDue>());
    }

    [Fact]
    public async Task Should_ignore_a_poll_that_was_replaced_by_a_later_one()
    {
        await GivenAwaitingPayment();
        var replaced = Order.PaymentPollTokenId;
        await PollFires();
        await Deliver(new PaymentStillPending { OrderId = OrderId, ProviderReference = ProviderReference });

        await DeliverTimer(new PaymentPollDue { OrderId = OrderId }, replaced);

        Assert.Single(Published<CheckPaymentStatus>());
    }

    [Fact]
    public async Task Should_ignore_the_payment_window_once_paid()
    {
        await GivenAwaitingPayment();
        var window = Order.PaymentWindowTokenId;
        var poll = Order.PaymentPollTokenId;
        await Deliver(Payment());

        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, window);
        await DeliverTimer(new PaymentPollDue { OrderId = OrderId }, poll);

        Assert.Equal(OrderStatuses.Placing, Order.CurrentState);
        Assert.Empty(Published<CancelPayment>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.Empty(Published<CheckPaymentStatus>());
    }

    [Fact]
    public async Task Should_ignore_the_payment_window_firing_twice()
    {
        await GivenAwaitingPayment();
        var window = Order.PaymentWindowTokenId;
        await PaymentWindowFires();

        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, window);

        Assert.Single(Published<CancelPayment>());
        Assert.Single(Published<ReleaseStock>());
        Assert.Single(Transitions(), t => t.StartsWith("PaymentWindowExpired"));
    }
}
