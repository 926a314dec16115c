using MassTransit;
using MassTransit.Clients;
using MassTransit.DependencyInjection;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using MassTransit.Transports;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// What <c>IPublishEndpoint</c> and <c>ISendEndpointProvider</c> are in a scope that is not consuming a message
/// (an HTTP request): every publish or send becomes an <see cref="OutboxMessage"/> of the scope's current
/// <see cref="OutboxState"/>, tracked by the scope's DbContext. Nothing reaches the broker unless the caller's
/// <c>SaveChanges</c> (and its transaction, if it opened one) commits; the delivery service sends it afterwards, or,
/// where the DbContext reports its commits (<see cref="OutboxCommits"/>), this process hands it off right after the
/// commit (<see cref="IOutboxHandOff"/>).
/// </summary>
sealed class BusOutboxContext<TDbContext> : ScopedBusContext, OutboxSendContext, IDisposable
    where TDbContext : DbContext
{
    readonly IBus _bus;
    readonly IClientFactory _clientFactory;
    readonly TDbContext _dbContext;
    readonly IServiceProvider _provider;
    readonly OutboxDeliverySignal _signal;
    readonly object _gate = new();
    readonly IOutboxHandOff? _handOff;
    readonly OutboxCommits? _commits;
    OutboxState? _outbox;
    List<OutboxMessage>? _messages;
    // Leased outboxes written by SaveChanges whose transaction has not committed yet: handed off at its commit.
    readonly List<(OutboxState Outbox, List<OutboxMessage> Messages)> _saved = [];
    long _sequenceNumber;
    bool _savedSinceSignal;
    bool _subscribed;
    IPublishEndpoint? _publishEndpoint;
    ISendEndpointProvider? _sendEndpointProvider;
    IScopedClientFactory? _scopedClientFactory;

    public BusOutboxContext(IBus bus, TDbContext dbContext, OutboxDeliverySignal signal, IClientFactory clientFactory, IServiceProvider provider)
    {
        _bus = bus;
        _dbContext = dbContext;
        _signal = signal;
        _clientFactory = clientFactory;
        _provider = provider;
        // Resolving the DbContext built its options, so the commit hook is installed by now if it ever will be.
        if (provider.GetService<OutboxCommits>() is { Reported: true } commits && provider.GetService<IOutboxHandOff>() is { } handOff)
        {
            _commits = commits;
            _handOff = handOff;
        }
    }

    public ISendEndpointProvider SendEndpointProvider => _sendEndpointProvider ??= new OutboxSendEndpointProvider(this, _bus);

    public IPublishEndpoint PublishEndpoint => _publishEndpoint ??= new PublishEndpoint(new OutboxPublishEndpointProvider(this, _bus));

    public IScopedClientFactory ClientFactory => _scopedClientFactory ??=
        new ScopedClientFactory(new ClientFactory(new ScopedClientFactoryContext(_clientFactory, _provider)), null);

    public Task AddSend<T>(SendContext<T> context)
        where T : class
    {
        var message = OutboxMessage.Capture(context);

        lock (_gate)
        {
            if (!_subscribed)
            {
                _dbContext.SavedChanges += OnSavedChanges;
                if (_commits is not null)
                {
                    _commits.Committed += OnCommitted;
                    _commits.Began += OnBegan;
                }

                _subscribed = true;
            }

            // After SaveChanges the previous outbox is written (or, if its transaction rolls back, gone): later
            // messages of this scope start a new outbox, with their own order.
            if (_outbox is null || _dbContext.Entry(_outbox).State != EntityState.Added)
            {
                _outbox = new OutboxState { OutboxId = NewId.NextGuid() };
                // Not leased (broker away, hand-offs saturated): the delivery loops take it, woken as before.
                _messages = _handOff?.Lease(_outbox) == true ? [] : null;
                _dbContext.Add(_outbox);
                _sequenceNumber = 0;
            }

            message.OutboxId = _outbox.OutboxId;
            message.SequenceNumber = ++_sequenceNumber;
            _messages?.Add(message);
            _dbContext.Add(message);
        }

        return Task.CompletedTask;
    }

    // SaveChanges without an explicit transaction has committed when this runs: wake the delivery service now.
    // Inside the caller's transaction the commit comes later; the scope's end (or, across processes, the
    // commit-time NOTIFY) wakes it then.
    void OnSavedChanges(object? sender, SavedChangesEventArgs e)
    {
        (OutboxState, List<OutboxMessage>)[] committed = [];
        lock (_gate)
        {
            if (_outbox is null || _dbContext.Entry(_outbox).State == EntityState.Added)
                return;

            var leased = _messages is not null;
            if (leased)
            {
                _saved.Add((_outbox, _messages!));
                _messages = null;
            }

            if (_dbContext.Database.CurrentTransaction is null)
            {
                committed = [.. _saved];
                _saved.Clear();
                if (!leased)
                    _signal.Notify();
            }
            else if (!leased)
            {
                _savedSinceSignal = true;
            }
        }

        HandOff(committed);
    }

    // A transaction of the scope's DbContext committed: what SaveChanges wrote in it goes now.
    void OnCommitted()
    {
        (OutboxState, List<OutboxMessage>)[] committed;
        lock (_gate)
        {
            committed = [.. _saved];
            _saved.Clear();
        }

        HandOff(committed);
    }

    // A new transaction began: outboxes saved in an earlier one that never committed were rolled back with it.
    void OnBegan()
    {
        lock (_gate)
            _saved.Clear();
    }

    void HandOff((OutboxState Outbox, List<OutboxMessage> Messages)[] committed)
    {
        foreach (var (outbox, messages) in committed)
            _handOff!.HandOff(outbox, messages);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_subscribed)
            {
                _dbContext.SavedChanges -= OnSavedChanges;
                if (_commits is not null)
                {
                    _commits.Committed -= OnCommitted;
                    _commits.Began -= OnBegan;
                }
            }

            if (_savedSinceSignal)
                _signal.Notify();
        }
    }

    public object? GetService(Type serviceType) => _provider.GetService(serviceType);
}

/// <summary>
/// Replaces MassTransit's scoped bus context: inside a consumer the consume context (and so the consumer outbox)
/// is used as usual; anywhere else the bus outbox.
/// </summary>
sealed class BusOutboxContextProvider<TDbContext> : IScopedBusContextProvider<IBus>, IDisposable
    where TDbContext : DbContext
{
    public BusOutboxContextProvider(IBus bus, TDbContext dbContext, OutboxDeliverySignal signal, Bind<IBus, IClientFactory> clientFactory,
        Bind<IBus, IScopedConsumeContextProvider> consumeContextProvider, IServiceProvider provider)
    {
        Context = consumeContextProvider.Value.HasContext
            ? new ConsumeContextScopedBusContext(consumeContextProvider.Value.GetContext(), clientFactory.Value)
            : new BusOutboxContext<TDbContext>(bus, dbContext, signal, clientFactory.Value, provider);
    }

    public ScopedBusContext Context { get; }

    public void Dispose() => (Context as IDisposable)?.Dispose();
}
