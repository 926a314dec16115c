using MassTransit;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Payment_qr_ready : OrderSagaSpec
{
    PaymentRequested Qr => new()
    {
        OrderId = OrderId,
        ProviderReference = ProviderReference,
        QrPayload = "qr://pay/7f3a",
        ExpiresAt = Start.AddMinutes(60),
    };

    [Fact]
    public async Task Should_keep_the_qr_for_the_storefront()
    {
        await GivenAwaitingPayment(qrReady: false);

        await Deliver(Qr);

        Assert.Equal(OrderStatuses.AwaitingPayment, Order.CurrentState);
        Assert.Equal(ProviderReference, Order.ProviderReference);
        Assert.Equal("qr://pay/7f3a", Order.QrPayload);
        Assert.Equal(Start.AddMinutes(60), Order.PaymentExpiresAt);
        var entry = Order.Timeline[^1];
        Assert.Equal(("PaymentRequested", OrderStatuses.AwaitingPayment, OrderStatuses.AwaitingPayment), (entry.Event, entry.FromState, entry.ToState));
        Assert.StartsWith("QR ready: provider reference qr_7f3a", entry.Detail);
    }

    [Fact]
    public async Task Should_record_it_once_when_reported_again()
    {
        await GivenAwaitingPayment(qrReady: false);

        await Deliver(Qr);
        await Deliver(Qr);

        Assert.Single(Order.Timeline, e => e.Event == "PaymentRequested");
    }
}

public sealed class Polling_the_payment : OrderSagaSpec
{
    [Fact]
    public async Task Should_check_the_payment_status_when_the_poll_is_due()
    {
        await GivenAwaitingPayment();

        await PollFires();

        var check = Assert.Single(Published<CheckPaymentStatus>());
        Assert.Equal(new CheckPaymentStatus { OrderId = OrderId, ProviderReference = ProviderReference }, check);
        Assert.Null(Order.PaymentPollTokenId);
    }

    [Fact]
    public async Task Should_schedule_the_next_poll_while_the_payment_is_pending()
    {
        await GivenAwaitingPayment();
        var firstPoll = Order.PaymentPollTokenId;
        await PollFires();

        await Deliver(new PaymentStillPending { OrderId = OrderId, ProviderReference = ProviderReference });

        Assert.Equal(2, Scheduled<PaymentPollDue>().Count);
        Assert.NotNull(Order.PaymentPollTokenId);
        Assert.NotEqual(firstPoll, Order.PaymentPollTokenId);

        await PollFires();
        Assert.Equal(2, Published<CheckPaymentStatus>().Count);
    }

    [Fact]
    public async Task Should_wait_for_the_qr_before_asking_the_provider()
    {
        await GivenAwaitingPayment(qrReady: false);

        await PollFires();

        Assert.Empty(Published<CheckPaymentStatus>());
        Assert.Equal(2, Scheduled<PaymentPollDue>().Count);
        Assert.NotNull(Order.PaymentPollTokenId);
    }

    [Fact]
    public async Task Should_keep_polling_when_a_status_check_faulted()
    {
        await GivenAwaitingPayment();
        await PollFires();

        await Deliver<Fault<CheckPaymentStatus>>(new CheckFault(new CheckPaymentStatus { OrderId = OrderId, ProviderReference = ProviderReference }));

        Assert.Equal(2, Scheduled<PaymentPollDue>().Count);
        Assert.NotNull(Order.PaymentPollTokenId);
    }

    [Fact]
    public async Task Should_leave_polls_off_the_timeline()
    {
        await GivenAwaitingPayment();
        var entries = Order.Timeline.Count;
        var updatedAt = Order.UpdatedAt;
        Clock.Advance(TimeSpan.FromSeconds(5));

        await PollFires();
        await Deliver(new PaymentStillPending { OrderId = OrderId, ProviderReference = ProviderReference });

        Assert.Equal(entries, Order.Timeline.Count);
        Assert.Equal(updatedAt, Order.UpdatedAt);
    }

    sealed record CheckFault(CheckPaymentStatus Message) : Fault<CheckPaymentStatus>
    {
        public Guid FaultId { get; } = NewId.NextGuid();
        public Guid? FaultedMessageId => null;
        public DateTime Timestamp { get; } = DateTime.UtcNow;
        public ExceptionInfo[] Exceptions => [];
        public HostInfo Host => null!;
        public string[] FaultMessageTypes => [];
    }
}
