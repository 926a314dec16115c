using Microsoft.Extensions.Options;
using Npgsql;

namespace Sagas.Api.Orders.Events;

/// <summary>
/// Tells the open <c>GET /orders/{id}/events</c> streams of this Api instance that their order changed. Every change to
/// an order's saga row is announced by PostgreSQL on the channel <c>order_changed</c> at commit (migration 0010), to
/// every listening session, so each Api instance hears every order whoever changed it: one LISTEN connection per
/// process, however many streams are open. A stream re-reads its order when told, and every
/// <see cref="OrderEventsOptions.RefreshInterval"/> anyway, which covers a notification lost while the listening
/// connection was being replaced.
/// </summary>
public sealed class OrderChangeFeed(NpgsqlDataSource dataSource, IOptions<OrderEventsOptions> options, ILogger<OrderChangeFeed> logger)
    : BackgroundService
{
    public const string Channel = "order_changed";

    // Streams by order. Opening and closing a stream takes the lock, and so does a notification while it copies the
    // order's streams; a subscription is therefore never added to a set that another stream's close just dropped.
    readonly Dictionary<Guid, HashSet<Subscription>> _subscriptions = new();

    /// <summary>Subscribe before the first read, so that a change between that read and the subscription is not missed.</summary>
    public Subscription Subscribe(Guid orderId)
    {
        var subscription = new Subscription(this, orderId);
        lock (_subscriptions)
        {
            if (!_subscriptions.TryGetValue(orderId, out var subscribers))
                _subscriptions[orderId] = subscribers = [];
            subscribers.Add(subscription);
        }

        return subscription;
    }

    void Unsubscribe(Subscription subscription)
    {
        lock (_subscriptions)
        {
            if (_subscriptions.TryGetValue(subscription.OrderId, out var subscribers) && subscribers.Remove(subscription) && subscribers.Count == 0)
                _subscriptions.Remove(subscription.OrderId);
        }
    }

    void Announce(Guid orderId)
    {
        Subscription[] subscribers;
        lock (_subscriptions)
            subscribers = _subscriptions.TryGetValue(orderId, out var set) ? [.. set] : [];
        foreach (var subscription in subscribers)
            subscription.Signal();
    }

    void AnnounceAll()
    {
        Subscription[] subscribers;
        lock (_subscriptions)
            subscribers = [.. _subscriptions.Values.SelectMany(set => set)];
        foreach (var subscription in subscribers)
            subscription.Signal();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Order change listener failed; open event streams re-read their orders every {Interval} until it reconnects",
                    options.Value.RefreshInterval);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    async Task ListenAsync(CancellationToken stoppingToken)
    {
        // Outside the pool: closing it ends the session and its LISTEN, so no pooled connection stays subscribed.
        await using var pooled = dataSource.CreateConnection();
        var listening = pooled.CloneWith(new NpgsqlConnectionStringBuilder(pooled.ConnectionString) { Pooling = false }.ConnectionString);
        await using (listening)
        {
            await listening.OpenAsync(stoppingToken);
            listening.Notification += (_, e) =>
            {
                if (Guid.TryParse(e.Payload, out var orderId))
                    Announce(orderId);
            };
            await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", listening))
                await listen.ExecuteNonQueryAsync(stoppingToken);

            // Changes made while nobody listened (start-up, a reconnect): every open stream reads again.
            AnnounceAll();
            while (!stoppingToken.IsCancellationRequested)
            {
                // A silent network failure never raises: probe the connection when nothing arrived for a while.
                if (!await listening.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
                {
                    await using var probe = new NpgsqlCommand("SELECT 1", listening);
                    await probe.ExecuteScalarAsync(stoppingToken);
                }
            }
        }
    }

    /// <summary>One open stream's interest in one order. Changes coalesce: one pending signal at most.</summary>
    public sealed class Subscription(OrderChangeFeed feed, Guid orderId) : IDisposable
    {
        readonly SemaphoreSlim _changed = new(0, 1);

        public Guid OrderId { get; } = orderId;

        internal void Signal()
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
                // already pending
            }
            catch (ObjectDisposedException)
            {
                // the stream ended meanwhile
            }
        }

        /// <summary>True when the order changed, false when <paramref name="timeout"/> passed first.</summary>
        public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _changed.WaitAsync(timeout, cancellationToken);

        public void Dispose()
        {
            feed.Unsubscribe(this);
            _changed.Dispose();
        }
    }
}
