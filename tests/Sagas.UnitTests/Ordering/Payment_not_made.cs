using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Payment_window_expiring : OrderSagaSpec
{
    [Fact]
    public async Task Should_ask_the_provider_to_withdraw_the_qr_and_keep_the_stock_until_it_answers()
    {
        await GivenAwaitingPayment();

        await PaymentWindowFires();

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Equal(new CancelPayment { OrderId = OrderId, ProviderReference = ProviderReference }, Assert.Single(Published<CancelPayment>()));
        Assert.Empty(Published<ReleaseStock>());
        Assert.Equal(PaymentStatus.Pending, Order.PaymentStatus);
        Assert.NotNull(Order.PaymentCancelRequestedAt);
        Assert.NotNull(Order.PendingWorkTokenId); // and asking again if the provider does not answer
        Assert.Equal("not paid by the deadline; asking the provider to withdraw the QR code, stock still held", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();
    }

    [Theory]
    [InlineData("canceled")]
    [InlineData("expired")]
    public async Task Should_expire_and_release_the_stock_once_the_provider_confirms_nobody_can_pay(string status)
    {
        await GivenAwaitingPayment();
        await PaymentWindowFires();

        await Deliver(Withdrawn(status));

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.PaymentExpired, Order.FailureReason);
        Assert.Equal(PaymentStatus.Expired, Order.PaymentStatus);
        Assert.Equal(OrderFailureReasons.PaymentExpired, Assert.Single(Published<ReleaseStock>()).Reason);
        Assert.Empty(Published<RefundPayment>());
        Assert.Null(Order.PaymentWindowTokenId);
        Assert.Null(Order.PaymentPollTokenId);
        Assert.Equal("PaymentCanceled: AwaitingPayment -> Expired", Transitions()[^1]);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_expire_when_a_poll_reads_the_payment_expired_at_the_provider()
    {
        await GivenAwaitingPayment();

        await Deliver(Withdrawn("expired"));

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Single(Published<ReleaseStock>());
    }

    [Fact]
    public async Task Should_wait_for_the_deadline_of_a_qr_code_created_late()
    {
        await GivenAwaitingPayment(qrReady: false);
        Clock.Advance(TimeSpan.FromMinutes(50));
        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://late", ExpiresAt = Clock.GetUtcNow().AddHours(1) });
        Clock.Advance(TimeSpan.FromMinutes(10) + Timings.PaymentGrace);

        // The timer set when the stock was held (window + grace) fires before this QR's own deadline.
        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, Order.PaymentWindowTokenId);

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Empty(Published<CancelPayment>());
        Assert.Equal(2, Scheduled<PaymentWindowExpired>().Count);
        Assert.NotNull(Order.PaymentWindowTokenId);
    }

    [Fact]
    public async Task Should_expire_at_once_when_no_qr_code_was_ever_created()
    {
        await GivenAwaitingPayment(qrReady: false);

        await PaymentWindowFires();

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.Empty(Published<CancelPayment>());
        Assert.Single(Published<ReleaseStock>());
        Assert.Equal("no QR code was created in time; stock release requested", Order.Timeline[^1].Detail);
    }

    [Fact]
    public async Task Should_withdraw_a_qr_payment_created_only_after_the_order_expired()
    {
        await GivenAwaitingPayment(qrReady: false);
        await PaymentWindowFires();

        await Deliver(new PaymentRequested { OrderId = OrderId, ProviderReference = ProviderReference, QrPayload = "qr://late", ExpiresAt = Start });

        Assert.Equal(ProviderReference, Assert.Single(Published<CancelPayment>()).ProviderReference);
        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        AssertTimelineIsConsistent();
    }

    [Fact]
    public async Task Should_record_the_stock_release_once_expired()
    {
        await GivenEnded(OrderStatuses.Expired);

        await Deliver(new StockReleased { OrderId = OrderId });

        Assert.Equal(OrderStatuses.Expired, Order.CurrentState);
        Assert.NotNull(Order.StockReleasedAt);
        Assert.Null(Order.PendingWorkTokenId); // nothing left to wait for
        Assert.Equal("stock released", Order.Timeline[^1].Detail);
        AssertTimelineIsConsistent();
    }
}

public sealed class Payment_failing : OrderSagaSpec
{
    [Fact]
    public async Task Should_fail_the_order_and_release_the_stock()
    {
        await GivenAwaitingPayment();

        await Deliver(new PaymentFailed { OrderId = OrderId, ProviderReference = ProviderReference, Reason = "declined" });

        Assert.Equal(OrderStatuses.Failed, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.PaymentFailed, Order.FailureReason);
        Assert.Equal(PaymentStatus.Failed, Order.PaymentStatus);
        // A failed payment can no longer be paid: nothing to withdraw.
        Assert.Empty(Published<CancelPayment>());
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
    }

    [Fact]
    public async Task Should_fail_when_the_qr_payment_cannot_be_created()
    {
        await GivenAwaitingPayment(qrReady: false);

        await DeliverFault(new RequestPayment { OrderId = OrderId, Amount = Total, Currency = Currency }, ProviderRefused, "422 amount too large");

        Assert.Equal(OrderStatuses.Failed, Order.CurrentState);
        Assert.Equal(OrderFailureReasons.PaymentFailed, Order.FailureReason);
        Assert.Single(Published<ReleaseStock>());
        Assert.Contains("the QR payment could not be created: 422 amount too large", Order.Timeline[^1].Detail);
    }
}

public sealed class Stale_timers : OrderSagaSpec
{
    [Fact]
    public async Task Should_ignore_a_payment_window_expiry_with_another_token()
    {
        await GivenAwaitingPayment();
        Clock.Advance(TimeSpan.FromHours(2));

        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, Guid.NewGuid());

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.NotNull(Order.PaymentWindowTokenId);
        Assert.Empty(Published<CancelPayment>());
        Assert.Empty(Published<ReleaseStock>());
    }

    [Fact]
    public async Task Should_ignore_the_payment_window_firing_twice()
    {
        await GivenAwaitingPayment();
        var window = Order.PaymentWindowTokenId;
        await PaymentWindowFires();

        await DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, window);

        Assert.Single(Published<CancelPayment>());
        Assert.Empty(Published<ReleaseStock>());
        Assert.Single(Order.Timeline, e => e.Event == nameof(PaymentWindowExpired));
    }
}
