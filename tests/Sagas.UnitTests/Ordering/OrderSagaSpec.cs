using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data.Ordering;
using Sagas.Testing;
using Sagas.Workers.Ordering;

namespace Sagas.UnitTests.Ordering;

/// <summary>
/// Runs the order state machine alone on MassTransit's in-memory test harness (in-memory saga repository, the
/// transport's delayed delivery as scheduler) with the endpoint definition used in production. Every message a spec
/// delivers is awaited until the saga endpoint has finished with it, outbox included, so a spec can assert what was
/// published, and what was not, without sleeping. Timers are long by default and delivered by the spec itself, with
/// the token id the saga stored, exactly as the scheduler would.
/// </summary>
public abstract class OrderSagaSpec : IAsyncLifetime
{
    protected static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    protected const string Currency = "USD";
    protected const decimal Total = 49.99m;
    protected const string ProviderReference = "qr_7f3a";

    readonly ProcessedMessages _processed = new();
    readonly ConcurrentDictionary<Guid, bool> _delivered = new();
    ServiceProvider _provider = null!;

    protected Guid OrderId { get; } = NewId.NextGuid();
    protected ManualClock Clock { get; } = new(Start);
    protected ITestHarness Harness { get; private set; } = null!;
    protected ISagaStateMachineTestHarness<OrderStateMachine, OrderState> Saga { get; private set; } = null!;
    protected OrderStateMachine Machine => Saga.StateMachine;
    protected SagaTimings Timings { get; private set; } = null!;

    /// <summary>What the saga's metrics recorded (the harness has no inbox: at once, not after a commit).</summary>
    protected MetricRecorder Metrics { get; private set; } = null!;

    /// <summary>The order's saga instance as the repository holds it.</summary>
    protected OrderState Order => Saga.Sagas.Contains(OrderId) ?? throw new InvalidOperationException($"no saga for order {OrderId}");

    /// <summary>Configuration section <c>Saga</c>. By default no timer fires within a spec unless the spec sends it.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Saga:PaymentWindow"] = "01:00:00",
        ["Saga:PollInterval"] = "00:30:00",
        ["Saga:PendingWorkRetry"] = "00:30:00",
        ["Saga:PendingWorkRetryMax"] = "02:00:00",
    };

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        _provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(Clock)
            .AddSagaTimings(configuration)
            .AddMetrics()
            .AddSingleton<OrderMetrics>()
            .AddMassTransitTestHarness(x =>
            {
                x.AddSagaStateMachine<OrderStateMachine, OrderState, OrderStateMachineDefinition>().InMemoryRepository();
                x.AddDelayedMessageScheduler();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseDelayedMessageScheduler();
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(validateScopes: true);

        Metrics = new MetricRecorder(_provider.GetRequiredService<IMeterFactory>());
        Harness = _provider.GetRequiredService<ITestHarness>();
        Harness.TestTimeout = TimeSpan.FromSeconds(10);
        await Harness.Start();
        Harness.Bus.ConnectReceiveObserver(_processed);
        Saga = Harness.GetSagaStateMachineHarness<OrderStateMachine, OrderState>();
        Timings = _provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<SagaTimings>>().Value;
    }

    public async Task DisposeAsync()
    {
        Metrics.Dispose();
        await _provider.DisposeAsync();
    }

    /// <summary>Publishes <paramref name="message"/> and waits until the saga endpoint has processed it.</summary>
    protected async Task Deliver<T>(T message) where T : class
    {
        var messageId = Delivering();
        var processed = _processed.WhenProcessed(messageId);
        await Harness.Bus.Publish(message, context => context.MessageId = messageId);
        await processed.WaitAsync(Harness.TestTimeout);
    }

    /// <summary>
    /// Sends a timer to the saga's queue as the scheduler does, carrying <paramref name="tokenId"/> in
    /// <c>MT-Scheduling-TokenId</c>, and waits until it has been processed.
    /// </summary>
    protected async Task DeliverTimer<T>(T message, Guid? tokenId) where T : class
    {
        var messageId = Delivering();
        var processed = _processed.WhenProcessed(messageId);
        var endpoint = await Harness.GetSagaEndpoint<OrderState>();
        await endpoint.Send(message, context =>
        {
            context.MessageId = messageId;
            if (tokenId is { } token)
                context.Headers.Set(MessageHeaders.SchedulingTokenId, token.ToString("D"));
        });
        await processed.WaitAsync(Harness.TestTimeout);
    }

    Guid Delivering()
    {
        var messageId = NewId.NextGuid();
        _delivered[messageId] = true;
        return messageId;
    }

    /// <summary>
    /// The deadline timer fires when it is due: with a QR code, the clock is first moved to the QR's deadline plus the
    /// grace, as the scheduler would fire it.
    /// </summary>
    protected Task PaymentWindowFires()
    {
        if (Order.PaymentExpiresAt is { } deadline && Clock.GetUtcNow() < deadline + Timings.PaymentGrace)
            Clock.Advance(deadline + Timings.PaymentGrace - Clock.GetUtcNow());
        return DeliverTimer(new PaymentWindowExpired { OrderId = OrderId }, Order.PaymentWindowTokenId);
    }

    protected Task PendingWorkFires() => DeliverTimer(new PendingWorkDue { OrderId = OrderId }, Order.PendingWorkTokenId);

    // The harness's lists keep waiting for more elements after the last one unless told not to: these read what is
    // there now, which after Deliver is everything the saga published for it.
    static readonly CancellationToken NoWaiting = new(canceled: true);

    /// <summary>Messages the saga published, oldest first.</summary>
    protected IReadOnlyList<T> Published<T>() where T : class =>
        Harness.Published.Select<T>(NoWaiting).Select(m => m.Context.Message).ToList();

    /// <summary>
    /// Timers the saga scheduled: with the transport's delayed delivery they are sends with a delay (timers the spec
    /// delivered itself are sends too, and left out).
    /// </summary>
    protected IReadOnlyList<T> Scheduled<T>() where T : class =>
        Harness.Sent.Select<T>(NoWaiting)
            .Where(m => m.Context.MessageId is not { } id || !_delivered.ContainsKey(id))
            .Select(m => m.Context.Message).ToList();

    // The order at each step of the happy path; specs start from the step they are about.

    protected SubmitOrder Submission() => new()
    {
        OrderId = OrderId,
        CustomerId = "c-1",
        Currency = Currency,
        Lines =
        [
            new OrderLine { Sku = "MOUSE-1", Quantity = 2, UnitPrice = 19.99m },
            new OrderLine { Sku = "PAD-1", Quantity = 1, UnitPrice = 10.01m },
        ],
        Total = Total,
        SubmittedAt = Start.AddSeconds(-2),
    };

    protected PaymentSucceeded Payment(string source = PaymentSources.Webhook, decimal amount = Total, string currency = Currency,
        DateTimeOffset? paidAt = null) => new()
    {
        OrderId = OrderId,
        ProviderReference = ProviderReference,
        Amount = amount,
        Currency = currency,
        Source = source,
        PaidAt = paidAt ?? Clock.GetUtcNow(),
    };

    /// <summary>The provider's word that the QR code can no longer be paid.</summary>
    protected PaymentCanceled Withdrawn(string status = "canceled") => new() { OrderId = OrderId, ProviderReference = ProviderReference, Status = status };

    /// <summary>The exception type a consumer reports when the provider refuses a request (a 4xx).</summary>
    protected const string ProviderRefused = "Sagas.Workers.Payments.PaymentProviderRejectedException";

    /// <summary>Publishes the <see cref="Fault{T}"/> a consumer publishes when <paramref name="message"/> failed for good.</summary>
    protected Task DeliverFault<T>(T message, string exceptionType = "System.TimeoutException", string detail = "the operation timed out")
        where T : class =>
        Deliver<Fault<T>>(new SpecFault<T>(message, [new SpecException(exceptionType, detail)]));

    /// <summary>The QR's deadline as the provider stated it in <see cref="GivenAwaitingPayment"/>.</summary>
    protected DateTimeOffset Deadline => Start.Add(Timings.PaymentWindow);

    protected Task GivenSubmitted() => Deliver(Submission());

    protected async Task GivenAwaitingPayment(bool qrReady = true)
    {
        await GivenSubmitted();
        await Deliver(new StockHeld { OrderId = OrderId, HeldUntil = Start.Add(Timings.HoldFor) });
        if (qrReady)
            await Deliver(new PaymentRequested
            {
                OrderId = OrderId,
                ProviderReference = ProviderReference,
                QrPayload = "qr://pay/7f3a",
                ExpiresAt = Start.Add(Timings.PaymentWindow),
            });
    }

    protected async Task GivenPlacing()
    {
        await GivenAwaitingPayment();
        await Deliver(Payment());
    }

    protected async Task GivenPlaced()
    {
        await GivenPlacing();
        await Deliver(new StockCommitted { OrderId = OrderId, CommittedAt = Clock.GetUtcNow() });
    }

    /// <summary>Brings the order to one of the final states other than Placed.</summary>
    protected async Task GivenEnded(string state)
    {
        switch (state)
        {
            case OrderStatuses.Rejected:
                await GivenSubmitted();
                await Deliver(new StockHoldRejected { OrderId = OrderId, Reason = "insufficient-stock", Skus = ["MOUSE-1"] });
                break;
            case OrderStatuses.Expired:
                await GivenAwaitingPayment();
                await PaymentWindowFires();
                await Deliver(Withdrawn("expired"));
                break;
            case OrderStatuses.Failed:
                await GivenAwaitingPayment();
                await Deliver(new PaymentFailed { OrderId = OrderId, ProviderReference = ProviderReference, Reason = "declined" });
                break;
            case OrderStatuses.Canceled:
                await GivenAwaitingPayment();
                await Deliver(new CancelOrder { OrderId = OrderId, RequestedBy = CancelRequesters.Storefront });
                await Deliver(Withdrawn());
                await Deliver(new StockReleased { OrderId = OrderId });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(state), state, null);
        }

        Assert.Equal(state, Order.CurrentState);
    }

    /// <summary>
    /// The timeline tells the whole story: it starts with the order's creation, each entry starts where the previous
    /// one ended, and the last one ends in the order's current state. A transition without an entry breaks the chain.
    /// </summary>
    protected void AssertTimelineIsConsistent()
    {
        var timeline = Order.Timeline;
        Assert.NotEmpty(timeline);
        Assert.Null(timeline[0].FromState);
        for (var i = 1; i < timeline.Count; i++)
            Assert.True(timeline[i].FromState == timeline[i - 1].ToState,
                $"entry {i} ({timeline[i].Event}) starts in {timeline[i].FromState} but the previous one ended in {timeline[i - 1].ToState}");
        Assert.Equal(Order.CurrentState, timeline[^1].ToState);
        Assert.All(timeline, e => Assert.Equal(OrderId, e.OrderId));
    }

    /// <summary>The timeline's transitions as "Event: From -> To".</summary>
    protected IReadOnlyList<string> Transitions() =>
        Order.Timeline.Where(e => e.FromState != e.ToState).Select(e => $"{e.Event}: {e.FromState ?? "-"} -> {e.ToState}").ToList();

    sealed record SpecFault<T>(T Message, ExceptionInfo[] Exceptions) : Fault<T>
    {
        public Guid FaultId { get; } = NewId.NextGuid();
        public Guid? FaultedMessageId => null;
        public DateTime Timestamp { get; } = DateTime.UtcNow;
        public HostInfo Host => null!;
        public string[] FaultMessageTypes => [];
    }

    sealed record SpecException(string ExceptionType, string Message) : ExceptionInfo
    {
        public ExceptionInfo? InnerException => null;
        public string StackTrace => "";
        public string Source => "spec";
        public IDictionary<string, object>? Data => null;
    }

    protected sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        readonly Lock _lock = new();
        DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow()
        {
            lock (_lock)
                return _now;
        }

        public void Advance(TimeSpan by)
        {
            lock (_lock)
                _now += by;
        }
    }

    /// <summary>
    /// Completes when a message has been through the whole receive pipe of its endpoint, outbox delivery included,
    /// and faults the waiting spec if it faulted.
    /// </summary>
    sealed class ProcessedMessages : IReceiveObserver
    {
        readonly ConcurrentDictionary<Guid, TaskCompletionSource> _messages = new();

        public Task WhenProcessed(Guid messageId) => Completion(messageId).Task;

        public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

        public Task PostReceive(ReceiveContext context)
        {
            if (context.GetMessageId() is { } messageId)
                Completion(messageId).TrySetResult();
            return Task.CompletedTask;
        }

        public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class
        {
            if (context.MessageId is { } messageId)
                Completion(messageId).TrySetException(exception);
            return Task.CompletedTask;
        }

        public Task ReceiveFault(ReceiveContext context, Exception exception)
        {
            if (context.GetMessageId() is { } messageId)
                Completion(messageId).TrySetException(exception);
            return Task.CompletedTask;
        }

        TaskCompletionSource Completion(Guid messageId) =>
            _messages.GetOrAdd(messageId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
