using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Messaging.Failed;
using Sagas.ServiceDefaults.RabbitMq;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// Nothing is lost between the error queue and PostgreSQL: a drain that cannot store a message leaves it
/// unacknowledged, so when that drain goes (a process that dies) RabbitMQ keeps the message for the next one.
/// </summary>
public sealed class Error_queue_drain(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task A_message_one_drain_could_not_store_stays_on_the_error_queue_and_the_next_drain_stores_it_once()
    {
        var queue = "drain-probe-" + Guid.NewGuid().ToString("N")[..8];
        var errorQueue = ErrorQueues.ErrorQueueOf(queue);
        var queues = new ErrorQueues();
        queues.Add(queue, () => new Dictionary<string, object>());
        var messageId = Guid.NewGuid();

        // The first drain's database is away (a database that does not exist refuses every connection).
        var away = new NpgsqlConnectionStringBuilder(infrastructure.Database.ConnectionString) { Database = "no_such_database_" + queue.Replace('-', '_') };
        await using (var awaySource = NpgsqlDataSource.Create(away.ConnectionString))
        {
            var log = new ErrorCount();
            using var first = Drain(queues, new FailedMessageStore(awaySource), log);
            await first.StartAsync(CancellationToken.None);
            await Eventually.Until(async () => await infrastructure.VirtualHost.QueueAsync(errorQueue) is not null, because: "the drain declared the error queue");
            await PublishToErrorQueue(errorQueue, messageId);
            await Eventually.Until(() => Task.FromResult(log.Errors > 0), because: "the first drain failed to store the message");
            await first.StopAsync(CancellationToken.None);
        }

        Assert.Equal(1, (await infrastructure.VirtualHost.ErrorQueueMessagesAsync()).GetValueOrDefault(errorQueue));
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.failed_message WHERE message_id = $1", messageId));

        await using var database = NpgsqlDataSource.Create(infrastructure.Database.ConnectionString);
        using var second = Drain(queues, new FailedMessageStore(database), new ErrorCount());
        await second.StartAsync(CancellationToken.None);
        await Eventually.Until(async () => await infrastructure.Count(
            "SELECT count(*) FROM messaging.failed_message WHERE message_id = $1 AND queue = $2 AND exception_type = 'Probe.BoomException' AND reason = 'boom'",
            messageId, queue) == 1, because: "the second drain stored it");
        await Eventually.Until(async () => !(await infrastructure.VirtualHost.ErrorQueueMessagesAsync()).ContainsKey(errorQueue),
            because: "acknowledged once stored");
        await second.StopAsync(CancellationToken.None);
    }

    ErrorQueueDrain Drain(ErrorQueues queues, FailedMessageStore store, ILogger<ErrorQueueDrain> logger) =>
        new(queues, store, new RabbitMqOptions
        {
            Host = infrastructure.Settings.RabbitHost,
            Port = (ushort)infrastructure.Settings.RabbitPort,
            VirtualHost = infrastructure.VirtualHost.Name,
            Username = infrastructure.Settings.RabbitUser,
            Password = infrastructure.Settings.RabbitPassword,
        }.ConnectionFactory(), TimeProvider.System, new Started(), logger);

    /// <summary>What MassTransit's error transport leaves on an error queue: the message with its fault headers.</summary>
    async Task PublishToErrorQueue(string errorQueue, Guid messageId)
    {
        using var management = TemporaryVirtualHost.CreateManagementClient(infrastructure.Settings);
        var publish = JsonSerializer.Serialize(new
        {
            properties = new
            {
                message_id = messageId.ToString(),
                content_type = "application/vnd.masstransit+json",
                delivery_mode = 2,
                headers = new Dictionary<string, string>
                {
                    ["MT-Fault-ExceptionType"] = "Probe.BoomException",
                    ["MT-Fault-Message"] = "boom",
                    ["MT-Fault-Timestamp"] = "2026-11-27T10:00:00.0000000Z",
                },
            },
            routing_key = errorQueue,
            payload = """{"messageType":["urn:message:Probe:Ping"],"message":{"orderId":"4a7c2b1e-0000-4000-8000-000000000001"}}""",
            payload_encoding = "string",
        });
        using var response = await management.PostAsync($"exchanges/{Uri.EscapeDataString(infrastructure.VirtualHost.Name)}/amq.default/publish",
            new StringContent(publish, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        Assert.Contains("\"routed\":true", await response.Content.ReadAsStringAsync());
    }

    sealed class Started : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => new(canceled: true);
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }

    sealed class ErrorCount : ILogger<ErrorQueueDrain>
    {
        int _errors;
        public int Errors => Volatile.Read(ref _errors);
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Error)
                Interlocked.Increment(ref _errors);
        }
    }
}
