using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sagas.Messaging;
using Sagas.Messaging.Outbox;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>The bus outbox while RabbitMQ is stopped: callers commit, delivery resumes when it is back.</summary>
[Collection(BrokerOutageCollection.Name)]
public sealed class Broker_outage(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task Messages_committed_while_RabbitMQ_is_down_all_arrive_in_order_per_outbox_when_it_returns()
    {
        await using var probe = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<LedgerEntryRecorded>(c => p.Record(c, c.Message.Reference)));
        using var host = await infrastructure.StartOutboxHost(b => b.MaxBackoff = TimeSpan.FromSeconds(2),
            services => services.AddHealthChecks().AddOutboxCheck(TimeSpan.FromMilliseconds(200)));
        var monitor = host.Services.GetRequiredService<IOutboxMonitor>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var run = NewId.NextGuid().ToString("N");

        Assert.Null(await monitor.OldestUndeliveredAgeAsync());

        await RabbitMqNode.StopApp();
        try
        {
            // Four requests of 25 messages each: four outboxes, each with its own order.
            for (var outbox = 0; outbox < 4; outbox++)
            {
                await using var scope = host.Services.CreateAsyncScope();
                var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
                for (var sequence = 0; sequence < 25; sequence++)
                    await publish.Publish(new LedgerEntryRecorded($"{run}:{outbox}:{sequence}"));
                await scope.ServiceProvider.GetRequiredService<TestDbContext>().SaveChangesAsync();
            }

            Assert.Equal(100, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"));
            await Eventually.Until(() => monitor.OldestUndeliveredAgeAsync(), age => age > TimeSpan.FromMilliseconds(200),
                because: "the figure grows while the broker is down");
            var report = await health.CheckHealthAsync(r => r.Name == "outbox");
            Assert.Equal(HealthStatus.Degraded, report.Status);
        }
        finally
        {
            await RabbitMqNode.StartApp();
        }

        var received = await Eventually.Until(
            () => Task.FromResult(probe.Received<LedgerEntryRecorded>().Select(x => x.Reference).Where(r => r.StartsWith(run, StringComparison.Ordinal)).ToList()),
            r => r.Count >= 100, TimeSpan.FromMinutes(2), because: "delivery resumed");

        Assert.Equal(100, received.Count);
        Assert.Equal(100, received.Distinct().Count());
        foreach (var outbox in received.Select(r => r.Split(':')).GroupBy(p => p[1]))
            Assert.Equal(Enumerable.Range(0, 25), outbox.Select(p => int.Parse(p[2])));

        await Eventually.Until(async () => await monitor.OldestUndeliveredAgeAsync() is null, because: "nothing left undelivered");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "outbox")).Status);
        await host.StopAsync();
    }

    [Fact]
    public async Task Requests_that_hand_off_their_outbox_never_wait_for_a_broker_that_is_away()
    {
        await using var probe = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<LedgerEntryRecorded>(c => p.Record(c, c.Message.Reference)));
        // Two hand-offs at once: a request that waited for a slot held by a send to the stopped broker would wait out
        // MessageDeliveryTimeout + SendAbandonGrace (15 s) per pair of requests.
        using var host = await infrastructure.StartHost(_ => { }, o =>
        {
            o.BusOutbox.HandOffsAtOnce = 2;
            o.BusOutbox.MaxBackoff = TimeSpan.FromSeconds(2);
        }, handOffInRequests: true);
        var run = NewId.NextGuid().ToString("N");

        await RabbitMqNode.StopApp();
        try
        {
            var requests = System.Diagnostics.Stopwatch.StartNew();
            for (var request = 0; request < 20; request++)
            {
                await using var scope = host.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
                await using var transaction = await db.Database.BeginTransactionAsync();
                await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new LedgerEntryRecorded($"{run}:{request}"));
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            }

            Assert.True(requests.Elapsed < TimeSpan.FromSeconds(8), $"20 requests committed in {requests.Elapsed.TotalSeconds:0.0} s with the broker away");
            Assert.Equal(20, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%'", run));
        }
        finally
        {
            await RabbitMqNode.StartApp();
        }

        var received = await Eventually.Until(
            () => Task.FromResult(probe.Received<LedgerEntryRecorded>().Select(x => x.Reference).Where(r => r.StartsWith(run, StringComparison.Ordinal)).ToList()),
            r => r.Count >= 20, TimeSpan.FromMinutes(2), because: "the loops delivered what the hand-off could not");
        Assert.Equal(20, received.Distinct().Count());
        await host.StopAsync();
    }
}
