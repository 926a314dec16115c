using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sagas.Messaging;
using Sagas.ServiceDefaults.Health;
using Sagas.Messaging.Outbox;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// The bus outbox against faults between the bus and RabbitMQ, played by a <see cref="TcpFaultProxy"/>: a broker
/// that stops answering, connections that drop or go dead silently. After each one delivery must resume by itself,
/// and readiness must tell when it does not move. Timeouts are scaled down (seconds instead of tens of seconds).
/// </summary>
[Collection(BrokerOutageCollection.Name)]
public sealed class Broker_faults(MessagingInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<MessagingInfrastructure>
{
    /// <summary>
    /// Issue 12, item 5. RabbitMQ.Client 7.2 disposes a channel's RPC semaphore when the channel goes, and a
    /// SemaphoreSlim disposed with waiters never completes them, not even on their cancellation. A stall (RabbitMQ
    /// stops answering, as it does while it shuts down) leaves one exchange/queue declaration waiting for its answer and
    /// the declarations of other send transports parked behind it; then the connection drops. The parked declarations
    /// hang for good, MassTransit's one-time topology setup around each never completes, every send queued on it
    /// waits too, and before the fix the delivery loop awaiting those sends kept its transaction, and the outboxes it
    /// had claimed, locked until the process restarted (3 runs out of 3 on the unfixed code).
    /// </summary>
    [Fact]
    public async Task Sends_stranded_by_a_stall_then_a_dropped_connection_do_not_keep_the_outbox_from_draining()
    {
        var log = new CapturedLog();
        await using var proxy = new TcpFaultProxy(infrastructure.Settings.RabbitHost, infrastructure.Settings.RabbitPort);
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MessageDeliveryTimeout = TimeSpan.FromSeconds(3);
            b.SendAbandonGrace = TimeSpan.FromSeconds(2);
            b.MaxBackoff = TimeSpan.FromSeconds(1);
        }, services => services.AddSingleton<ILoggerProvider>(log), rabbitPort: proxy.Port);
        var run = NewId.NextGuid().ToString("N")[..12];

        proxy.Stall();
        try
        {
            // 24 requests, each sending to a queue of its own: 24 send transports whose first send declares its queue,
            // all on the bus endpoint's channel, one RPC at a time.
            for (var i = 0; i < 24; i++)
            {
                await using var scope = host.Services.CreateAsyncScope();
                var endpoint = await scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri($"queue:stranded-{run}-{i}"));
                await endpoint.Send(new RecordLedgerEntry($"{run}:{i}"));
                await scope.ServiceProvider.GetRequiredService<TestDbContext>().SaveChangesAsync();
            }

            // The first passes time out against the silent broker; the next one claims every outbox, and its sends'
            // declarations park behind the one still waiting for an answer.
            await Eventually.Until(() => Task.FromResult(log.Count("Outbox delivery failed")), n => n > 0, TimeSpan.FromSeconds(30),
                because: "a first delivery pass timed out");
            await Task.Delay(TimeSpan.FromSeconds(1));

            // Then the connection drops, and the broker stays away for a moment.
            proxy.Refuse = true;
            proxy.Cut();
        }
        finally
        {
            proxy.Resume();
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        proxy.Refuse = false;

        try
        {
            await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0,
                TimeSpan.FromSeconds(60), because: "every outbox is delivered once the broker is back, without a restart");
        }
        finally
        {
            output.WriteLine($"transactions idle in transaction: {await IdleInTransaction()}");
            foreach (var line in log.Lines.TakeLast(40))
                output.WriteLine(line);
        }

        Assert.Equal(0, await IdleInTransaction());
        await host.StopAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// Readiness: Unhealthy once delivery has made no progress for longer than <c>StalledAfter</c> while messages wait
    /// (here: RabbitMQ unreachable), Healthy again once they are delivered.
    /// </summary>
    [Fact]
    public async Task Readiness_fails_while_delivery_makes_no_progress_and_messages_wait_and_recovers_with_delivery()
    {
        await using var proxy = new TcpFaultProxy(infrastructure.Settings.RabbitHost, infrastructure.Settings.RabbitPort);
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MessageDeliveryTimeout = TimeSpan.FromSeconds(1);
            b.MaxBackoff = TimeSpan.FromSeconds(1);
            b.StalledAfter = TimeSpan.FromSeconds(3);
        }, services => services.AddHealthChecks().AddOutboxDeliveryCheck(), rabbitPort: proxy.Port);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Task<HealthStatus> Readiness() => health.CheckHealthAsync(r => r.Name == "outbox-delivery").ContinueWith(t => t.Result.Status);

        await Commit(host, 1);
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0, because: "warm-up delivered");
        Assert.Equal(HealthStatus.Healthy, await Readiness());

        proxy.Refuse = true;
        proxy.Cut();
        try
        {
            await Commit(host, 5);
            // Not at once: a blip shorter than StalledAfter leaves the process in rotation.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(HealthStatus.Healthy, await Readiness());
            await Eventually.Until(Readiness, s => s == HealthStatus.Unhealthy, TimeSpan.FromSeconds(20),
                because: "no progress for longer than StalledAfter while messages wait");
        }
        finally
        {
            proxy.Refuse = false;
        }

        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0, TimeSpan.FromSeconds(60),
            because: "delivered once RabbitMQ is reachable");
        await Eventually.Until(Readiness, s => s == HealthStatus.Healthy, TimeSpan.FromSeconds(10), because: "delivery moved again");
        await host.StopAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// The connection goes dead without closing while RabbitMQ stays reachable: MassTransit still reports the bus as
    /// connected (it would notice only after missed heartbeats, minutes later) and every send times out. After
    /// <c>RecycleConnectionAfter</c> the delivery service closes that connection through MassTransit, which opens a new
    /// one, and delivery resumes.
    /// </summary>
    [Fact]
    public async Task Sends_that_keep_timing_out_while_the_bus_reports_a_connection_get_the_connection_replaced()
    {
        var log = new CapturedLog();
        await using var proxy = new TcpFaultProxy(infrastructure.Settings.RabbitHost, infrastructure.Settings.RabbitPort);
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MessageDeliveryTimeout = TimeSpan.FromSeconds(1);
            b.SendAbandonGrace = TimeSpan.FromSeconds(1);
            b.MaxBackoff = TimeSpan.FromSeconds(1);
            b.RecycleConnectionAfter = TimeSpan.FromSeconds(4);
            b.ConnectionCloseTimeout = TimeSpan.FromSeconds(2);
        }, services => services.AddSingleton<ILoggerProvider>(log), rabbitPort: proxy.Port);
        var recycler = host.Services.GetRequiredService<BrokerConnectionRecycler>();

        await Commit(host, 1);
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0, because: "warm-up delivered");

        proxy.StallOpenConnections();
        await Commit(host, 5);
        try
        {
            await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0, TimeSpan.FromSeconds(45),
                because: "the connection was replaced and the outbox delivered");
        }
        finally
        {
            foreach (var line in log.Lines.TakeLast(30))
                output.WriteLine(line);
        }

        Assert.Equal(1, recycler.Recycles);
        // The connection monitor notices the new connection within moments of MassTransit opening it.
        await Eventually.Until(() => Task.FromResult(recycler.BusConnected), TimeSpan.FromSeconds(5), "the bus reports its new connection");
        await host.StopAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Readiness runs the delivery check, and a failing one answers 503 (Unhealthy), not 200 (Degraded).</summary>
    [Fact]
    public void The_readiness_checks_include_the_delivery_check_as_unhealthy_on_failure()
    {
        var services = new ServiceCollection();
        services.AddReadinessChecks();
        var registrations = services.BuildServiceProvider().GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>()
            .Value.Registrations;
        var delivery = Assert.Single(registrations, r => r.Name == "outbox-delivery");
        Assert.Equal(HealthStatus.Unhealthy, delivery.FailureStatus);
        Assert.Contains(HealthEndpoints.ReadyTag, delivery.Tags);
    }

    static async Task Commit(IHost host, int outboxes)
    {
        for (var i = 0; i < outboxes; i++)
        {
            await using var scope = host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new LedgerEntryRecorded($"fault-{NewId.NextGuid():N}"));
            await scope.ServiceProvider.GetRequiredService<TestDbContext>().SaveChangesAsync();
        }
    }

    Task<long> IdleInTransaction() =>
        infrastructure.Count("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()");
}
