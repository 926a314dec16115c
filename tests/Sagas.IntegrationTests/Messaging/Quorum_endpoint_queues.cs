using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sagas.ServiceDefaults.RabbitMq;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// The queues of a bus configured with <see cref="RabbitMqOptions.QuorumQueues"/>: every durable endpoint, whether from
/// <c>ConfigureEndpoints</c> or configured by hand, is a quorum queue, and so are the <c>_error</c> and <c>_skipped</c>
/// queues MassTransit declares for it when a message first goes there (they inherit its arguments). A temporary
/// endpoint stays a non-durable classic queue that expires when unused (<c>x-expires</c>), which a quorum queue cannot be.
/// </summary>
public sealed class Quorum_endpoint_queues(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task Durable_endpoints_and_their_error_and_skipped_queues_are_quorum_queues_and_temporary_endpoints_are_not()
    {
        var faults = new LedgerFaults();
        var reference = $"quorum-{NewId.NextGuid()}";
        faults.FailNext(reference, new InvalidOperationException("not retried: the message goes to the error queue"));
        using var host = await infrastructure.StartHost(x =>
            {
                x.AddConsumer<RecordLedgerEntryConsumer>();
                x.AddConsumer<ReserveNameConsumer>().Endpoint(e => e.Temporary = true);
            },
            configureServices: services => services.AddSingleton(faults),
            configureRabbitMq: cfg =>
            {
                new RabbitMqOptions { QuorumQueues = true }.ConfigureDurableEndpoints(cfg);
                cfg.ReceiveEndpoint("configured-by-hand", e => e.Handler<LedgerEntryRecorded>(_ => Task.CompletedTask));
            });
        var bus = host.Services.GetRequiredService<IBus>();

        // To the endpoint's exchange: a send to queue:record-ledger-entry would declare the queue without arguments,
        // which RabbitMQ refuses for a quorum queue (see PostgresMessageSchedulerOptions.SchedulerAddress).
        var endpoint = await bus.GetSendEndpoint(new Uri("exchange:record-ledger-entry"));
        await endpoint.Send(new RecordLedgerEntry(reference));
        // No consumer of the endpoint takes this type: MassTransit moves it to the skipped queue.
        await endpoint.Send(new Increment(NewId.NextGuid()));

        await Eventually.Until(() => infrastructure.VirtualHost.ErrorQueueMessagesAsync(), e => e.ContainsKey("record-ledger-entry_error"),
            because: "the failed message reached the error queue");
        await Eventually.Until(() => infrastructure.VirtualHost.QueueAsync("record-ledger-entry_skipped"), q => q is not null,
            because: "the unconsumed message reached the skipped queue");

        foreach (var name in new[] { "record-ledger-entry", "record-ledger-entry_error", "record-ledger-entry_skipped", "configured-by-hand" })
        {
            var queue = await infrastructure.VirtualHost.QueueAsync(name);
            Assert.True(queue is { } q && q.GetProperty("type").GetString() == "quorum" && q.GetProperty("durable").GetBoolean(), $"{name}: {queue}");
        }

        // The temporary endpoint (and the bus endpoint, should MassTransit have declared it by now): MassTransit declares
        // them non-durable with x-expires instead of auto-delete.
        var temporary = (await infrastructure.VirtualHost.QueuesAsync()).Where(q => !q.GetProperty("durable").GetBoolean()).ToList();
        Assert.NotEmpty(temporary);
        Assert.All(temporary, q => Assert.True(q.GetProperty("type").GetString() == "classic"
                                               && q.GetProperty("arguments").TryGetProperty("x-expires", out _), $"{q}"));
        await host.StopAsync();
    }
}
