using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Sagas.Messaging.Failed;

/// <summary>
/// Drains every <c>&lt;queue&gt;_error</c> queue of this process's endpoints into <c>messaging.failed_message</c>.
/// <para>
/// MassTransit's error transport stays as it is: a message that exhausted its retries is moved to the broker's error
/// queue first (durable, replicated with quorum queues), and only this consumer takes it from there, acknowledging
/// each delivery after its row has committed. A process that dies in between leaves the delivery unacknowledged and
/// RabbitMQ gives it to another drain (every Workers instance runs one; they compete on the queues); the row is keyed
/// by the MessageId, so the second store changes nothing. A database that is away leaves the messages in the error
/// queue (negatively acknowledged after a pause, so nothing spins) until it is back.
/// </para>
/// A plain RabbitMQ.Client consumer rather than a MassTransit endpoint: MassTransit would deserialize and route what
/// it receives, and a message on an error queue is by definition one that may not deserialize (a poison body).
/// </summary>
/// <param name="broker">Where and as whom to connect (the application's broker settings); the drain names its connection
/// and turns on automatic recovery itself.</param>
public sealed class ErrorQueueDrain(
    ErrorQueues queues,
    FailedMessageStore store,
    ConnectionFactory broker,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<ErrorQueueDrain> logger) : BackgroundService
{
    /// <summary>Deliveries each error queue hands out before an acknowledgement: they are stored one at a time anyway.</summary>
    const ushort Prefetch = 8;

    static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The bus is configured (and so its endpoints known) while the hosts start; wait for all of them.
        var started = new TaskCompletionSource();
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
            await started.Task.ConfigureAwait(false);

        var factory = broker;
        factory.ClientProvidedName = AppDomain.CurrentDomain.FriendlyName + " error-queue drain";
        // Reconnects and re-declares and re-consumes after a broker restart on its own.
        factory.AutomaticRecoveryEnabled = true;
        factory.TopologyRecoveryEnabled = true;

        IConnection? connection = null;
        while (connection is null && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                connection = await factory.CreateConnectionAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is BrokerUnreachableException or OperationInterruptedException or IOException)
            {
                logger.LogWarning(exception, "Error-queue drain: broker unreachable, trying again");
                await Task.Delay(TimeSpan.FromSeconds(5), clock, stoppingToken);
            }
        }

        if (connection is null)
            return;
        await using (connection)
        {
            foreach (var (queue, arguments) in queues.Snapshot())
            {
                try
                {
                    await DrainAsync(connection, queue, arguments, stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // Not thrown on: a failed BackgroundService stops the whole host, and the other queues still drain.
                    logger.LogError(exception, "Error-queue drain: cannot drain {Queue}; its failed messages stay in RabbitMQ only",
                        ErrorQueues.ErrorQueueOf(queue));
                }
            }
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    async Task DrainAsync(IConnection connection, string queue, IReadOnlyDictionary<string, object> arguments, CancellationToken stoppingToken)
    {
        var errorQueue = ErrorQueues.ErrorQueueOf(queue);
        var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        try
        {
            // Declared as MassTransit declares it, so the drain can start before the first failure made it exist.
            await channel.QueueDeclareAsync(errorQueue, durable: true, exclusive: false, autoDelete: false,
                arguments: arguments.ToDictionary(a => a.Key, a => (object?)a.Value), cancellationToken: stoppingToken);
        }
        catch (OperationInterruptedException exception)
        {
            logger.LogError(exception, "Error-queue drain: {Queue} exists with other arguments; draining it as it is", errorQueue);
            channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
            await channel.QueueDeclarePassiveAsync(errorQueue, stoppingToken);
        }

        await channel.BasicQosAsync(0, Prefetch, false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            try
            {
                // The body's memory belongs to the client only for the duration of this handler: Read copies it.
                var message = ErrorQueueMessage.Read(queue, delivery.BasicProperties, delivery.Body, clock.GetUtcNow());
                var recorded = await store.RecordAsync(message, stoppingToken);
                logger.Log(recorded ? LogLevel.Warning : LogLevel.Information,
                    "Failed message {MessageId} ({MessageType}) from {Queue}: {ExceptionType}: {Reason}{Duplicate}",
                    message.MessageId, message.MessageType, queue, message.ExceptionType, message.Reason, recorded ? "" : " (already recorded)");
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(exception, "Error-queue drain: could not record a message from {Queue}; it stays on the queue", errorQueue);
                await Task.Delay(PauseAfterFailure, clock, CancellationToken.None);
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            }
        };
        await channel.BasicConsumeAsync(errorQueue, autoAck: false, consumer, stoppingToken);
        logger.LogInformation("Error-queue drain: consuming {Queue}", errorQueue);
    }
}
