using MassTransit;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// Settings of the Quartz-backed message scheduler: the queue that receives <c>ScheduleMessage</c> /
/// <c>CancelScheduledMessage</c>, and the clustered Quartz scheduler that stores and fires the timers in
/// PostgreSQL. Every process pointing at the same database with the same <see cref="SchedulerName"/> is one
/// cluster node: a timer fires on exactly one of them, whichever is alive when it is due.
/// </summary>
public sealed class PostgresMessageSchedulerOptions
{
    public const string DefaultQueueName = "scheduler";

    /// <summary>The queue the scheduler consumers listen on; <c>UseMessageScheduler</c> points here.</summary>
    public string QueueName { get; set; } = DefaultQueueName;

    /// <summary>The connection string of the job store; when null, <see cref="ConnectionStringName"/> is read from configuration.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The name under <c>ConnectionStrings</c> in the application's configuration.</summary>
    public string ConnectionStringName { get; set; } = "Postgres";

    /// <summary>
    /// Quartz's scheduler name (<c>sched_name</c> in every table). Nodes sharing it form one cluster;
    /// renaming it orphans the timers already stored under the old name.
    /// </summary>
    public string SchedulerName { get; set; } = "message-scheduler";

    /// <summary>Unique id of this node in the cluster; null (the default) generates one at start-up (Quartz's AUTO).</summary>
    public string? InstanceId { get; set; }

    /// <summary>Prefix of the Quartz tables, schema included. The tables are created by migration 0002_quartz.sql.</summary>
    public string TablePrefix { get; set; } = "quartz.qrtz_";

    /// <summary>
    /// Jobs fired at once by this node, which is also how many due triggers it acquires per round. A job only
    /// sends one message, so a few threads go a long way.
    /// </summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>How often a node records it is alive; null keeps Quartz's default.</summary>
    public TimeSpan? ClusterCheckinInterval { get; set; }

    /// <summary>How late a node's check-in may be before another node recovers its in-flight firings; null keeps Quartz's default.</summary>
    public TimeSpan? ClusterCheckinMisfireThreshold { get; set; }

    /// <summary>
    /// How a firing whose send failed (broker unreachable, say) is retried by Quartz. The default backs off from
    /// 1 s to 5 min (±20%) and never gives up: a timer is an order's promise to act later, so a broker outage of
    /// any length delays it and never drops it.
    /// </summary>
    public RetryPolicy FireRetryPolicy { get; set; } =
        RetryPolicy.Exponential(int.MaxValue, TimeSpan.FromSeconds(1), 2, TimeSpan.FromMinutes(5), 0.2);

    /// <summary>
    /// Record every firing (node, time, outcome) in <c>qrtz_execution_history</c>. Off by default: it is one more
    /// write per timer. Useful when support needs to know whether and where a timer fired.
    /// </summary>
    public bool ExecutionHistory { get; set; }

    /// <summary>Prefetch of the scheduler queue.</summary>
    public int? PrefetchCount { get; set; } = 32;

    /// <summary>Concurrent messages on the scheduler queue; null lets MassTransit decide from the prefetch.</summary>
    public int? ConcurrentMessageLimit { get; set; }

    /// <summary>
    /// Extra configuration of the scheduler's receive endpoint (a filter, ...). Its queue type follows the bus's other
    /// durable endpoints (<c>RabbitMqOptions.QuorumQueues</c>).
    /// </summary>
    public Action<IReceiveEndpointConfigurator>? ConfigureEndpoint { get; set; }

    /// <summary>Extra Quartz configuration, e.g. cluster-safe cron jobs that share this scheduler.</summary>
    public Action<IQuartzBuilder>? ConfigureQuartz { get; set; }

    /// <summary>
    /// Where schedules and cancellations are sent: the exchange of the scheduler's endpoint, which the endpoint binds to
    /// its queue. Not <c>queue:</c>: MassTransit 8.5 declares the queue of a <c>queue:</c> address on the first send to it,
    /// with no arguments, and RabbitMQ refuses that declaration (PRECONDITION_FAILED) for a quorum queue, so every schedule
    /// would be refused. Only processes that run the scheduler's endpoint send here, and the endpoint declares the
    /// exchange and the binding when it starts, as every endpoint does for the messages published to it.
    /// </summary>
    public Uri SchedulerAddress => new($"exchange:{QueueName}");

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(QueueName))
            throw new ArgumentException("The scheduler queue name is required", nameof(QueueName));
        if (string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(ConnectionStringName))
            throw new ArgumentException("A connection string or a connection string name is required", nameof(ConnectionString));
        if (string.IsNullOrWhiteSpace(SchedulerName))
            throw new ArgumentException("The Quartz scheduler name is required", nameof(SchedulerName));
        if (MaxConcurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "At least one job must be able to run");
    }
}
