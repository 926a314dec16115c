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
}
