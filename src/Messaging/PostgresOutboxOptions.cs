namespace Sagas.Messaging;

/// <summary>Settings of the inbox, the consumer outbox and the bus outbox that delivers what both commit.</summary>
public sealed class PostgresOutboxOptions
{
    /// <summary>How long a consumed inbox entry is kept to recognise a redelivered message.</summary>
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the cleanup service looks for inbox entries past the window.</summary>
    public TimeSpan InboxCleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Inbox entries deleted per statement, so cleanup never holds long locks.</summary>
    public int InboxCleanupBatchSize { get; set; } = 1000;

    /// <summary>Attempts of a consume transaction that lost a database race (see <see cref="InboxRetry"/>).</summary>
    public int RetryLimit { get; set; } = 12;

    /// <summary>
    /// A consumer's timers (a state machine's <c>Schedule</c>/<c>Unschedule</c>) are kept in its own transaction as
    /// outboxes due at the timer's time, instead of crossing the broker to the Quartz scheduler (see
    /// <c>Outbox/OutboxTimers.cs</c>). Off: they go to the scheduler endpoint as MassTransit sends them.
    /// </summary>
    public bool TimersInOutbox { get; set; } = true;

    /// <summary>
    /// The bus outbox: what consumers send and what is published or sent outside a consumer (e.g. in an HTTP request) is
    /// written to it in the caller's transaction and delivered by a hosted service after the commit.
    /// </summary>
    public BusOutboxOptions BusOutbox { get; } = new();
}

public sealed class BusOutboxOptions
{
    /// <summary>Run the delivery service in this process (off for a process that only writes, e.g. in tests).</summary>
    public bool DeliveryServiceEnabled { get; set; } = true;

    /// <summary>
    /// Wake on commits made by other processes through PostgreSQL <c>LISTEN messaging_outbox</c> (a trigger on
    /// outbox_state notifies at commit). Commits in this process wake the service directly either way.
    /// </summary>
    public bool ListenForCommits { get; set; } = true;

    /// <summary>
    /// Commits of other processes wake this one at most once per interval (their own delivery service usually sends
    /// them first). Commits in this process wake it at once.
    /// </summary>
    public TimeSpan RemoteWakeInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The fallback poll, for rows left by a crashed process or written while a listener was down.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The process that commits an outbox sends it right away, from memory, instead of waking a delivery loop to claim
    /// and read it back (<see cref="Outbox.OutboxHandOff{TDbContext}"/>): an idle saga hop saves the wake-up and a claim
    /// transaction, a busy one the claim, the read and the delete of its own transaction (finished outboxes are deleted
    /// in batches). Only where the delivery service runs, and in a bus-outbox scope only when the DbContext reports its
    /// commits (<see cref="OutboxHandOffExtensions.UseOutboxHandOff"/>).
    /// </summary>
    public bool HandOff { get; set; } = true;

    /// <summary>
    /// A handed-off outbox is committed as due this much later, so that no delivery loop claims it while its own process
    /// sends it. Should that process die first, a loop sends it once the lease has run out (at its next poll).
    /// </summary>
    public TimeSpan HandOffLease { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Hand-offs in flight at once in this process; beyond that (and while the broker is away) the loops take outboxes.</summary>
    public int HandOffsAtOnce { get; set; } = 64;

    /// <summary>Concurrent claim–send–commit loops of the delivery service in this process.</summary>
    public int DeliveryLoops { get; set; } = 2;

    /// <summary>Outboxes claimed per transaction; their messages go out concurrently, each outbox in order.</summary>
    public int OutboxBatchSize { get; set; } = 32;

    /// <summary>Messages read per transaction across the claimed outboxes.</summary>
    public int MessageBatchSize { get; set; } = 500;

    /// <summary>How long one send to the broker may take before it is cancelled and the outbox retried later.</summary>
    public TimeSpan MessageDeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A send still running this long after <see cref="MessageDeliveryTimeout"/> is abandoned (the message stays in
    /// the outbox and goes out on a later pass). MassTransit 8.5 with RabbitMQ.Client 7.2 can leave a send waiting
    /// forever, deaf to its cancellation: a topology declare parked on the RPC semaphore of a channel that is then
    /// disposed (a stall followed by a dropped connection), and every send queued behind that one-time setup.
    /// Without this bound one such send holds its delivery loop, and the outboxes it claimed, until a restart.
    /// </summary>
    public TimeSpan SendAbandonGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Replace the bus's RabbitMQ connection (close it; MassTransit opens a new one with new channels) when sends to
    /// one destination have kept timing out for this long while the bus reports being connected; at most once per this
    /// interval. Null: never.
    /// </summary>
    public TimeSpan? RecycleConnectionAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long closing a connection to replace it waits for the broker before closing the socket.</summary>
    public TimeSpan ConnectionCloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Readiness (<c>outbox-delivery</c>) turns Unhealthy when delivery has made no progress this long while messages
    /// wait on it.
    /// </summary>
    public TimeSpan StalledAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// First wait of a delivery loop after a failure that is not one outbox's own (broker or database down, sends timing
    /// out); doubles up to <see cref="MaxBackoff"/>. Such failures never count towards <see cref="MaxAttempts"/>.
    /// </summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Failures specific to one outbox (the broker refused its message, or sending it failed otherwise while the bus was
    /// connected) after which it is parked: claims skip it until <c>messaging.release_parked_outbox(id)</c>. With the
    /// default delays the last attempt comes about 4 minutes after the first (1 + 2 + 4 + ... + 32 + 3 × 60 s), long
    /// enough to ride out a topology change or a permission being fixed, short enough that the outbox stops costing
    /// sends and alerts well within the hour.
    /// </summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>
    /// How long an outbox waits after its first counted failure before it is due again; doubles with each further one up
    /// to <see cref="MaxRetryDelay"/>. The other outboxes are not held up meanwhile.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);
}
