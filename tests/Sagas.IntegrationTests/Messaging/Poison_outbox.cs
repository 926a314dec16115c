using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Messaging;
using Sagas.Messaging.Outbox;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// Issue 12, item 2: an outbox RabbitMQ keeps refusing is retried on its own schedule and parked after
/// <see cref="BusOutboxOptions.MaxAttempts"/>, without holding back the others; a broker outage counts against no outbox.
/// The poison is a real refusal: the destination's exchange exists with another type (as after a topology change made
/// by hand or by another version), so RabbitMQ answers MassTransit's declaration with 406 PRECONDITION_FAILED every
/// time, for that destination only. In the broker-outage collection: one spec stops RabbitMQ, and the first measures
/// delivery against a retry schedule.
/// </summary>
[Collection(BrokerOutageCollection.Name)]
public sealed class Poison_outbox(MessagingInfrastructure infrastructure, ITestOutputHelper output) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task A_poison_outbox_beside_a_thousand_good_ones_holds_none_back_and_is_parked_after_its_attempts()
    {
        var run = Guid.NewGuid().ToString("N")[..12];
        var poisonQueue = $"poison-{run}";
        await infrastructure.VirtualHost.DeclareExchangeAsync(poisonQueue, "topic");
        await using var probe = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<LedgerEntryRecorded>(c => p.Record(c, c.Message.Reference)));

        // Written before any delivery service runs: the poison outbox first (the oldest, so claimed first), then a
        // thousand good ones in one commit.
        using (var writer = await infrastructure.StartOutboxHost(b => b.DeliveryServiceEnabled = false))
        {
            await SendInOneOutbox(writer, new Uri($"queue:{poisonQueue}"), $"{run}:poison");
            await PublishInOutboxesOfOneCommit(writer, Enumerable.Range(0, 1000).Select(i => $"{run}:good:{i}"));
            await writer.StopAsync();
        }

        var poison = await PoisonOutbox(poisonQueue);
        Assert.Equal(1001, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"));

        // The poison one is due again 8 s after its first refusal, then 16 s after its second, and parked at its third.
        var log = new CapturedLog();
        // From before the first attempt, which may come while the host is still starting.
        var clock = Stopwatch.StartNew();
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MaxAttempts = 3;
            b.RetryDelay = TimeSpan.FromSeconds(8);
            b.MaxRetryDelay = TimeSpan.FromSeconds(16);
        }, services =>
        {
            services.AddSingleton<ILoggerProvider>(log);
            services.AddHealthChecks().AddOutboxCheck();
        });

        // Whole-loop backoff (250 ms doubling to 5 s after each pass that met the poison one) took about a minute here.
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state WHERE outbox_id <> $1", poison),
            n => n == 0, TimeSpan.FromSeconds(30), because: "every good outbox sent");
        var attemptsWhenDrained = await infrastructure.Count("SELECT attempts FROM messaging.outbox_state WHERE outbox_id = $1", poison);
        output.WriteLine($"1,000 good outboxes sent in {clock.Elapsed.TotalSeconds:0.0} s; the poison one had {attemptsWhenDrained} attempt(s)");
        // Retried on its own schedule, never on every pass of the loop: by then at most the attempts that schedule
        // allows (one before 8 s, two before 8 + 16 s). On a quiet machine the thousand are gone well before 8 s.
        var allowed = clock.Elapsed < TimeSpan.FromSeconds(8) ? 1 : clock.Elapsed < TimeSpan.FromSeconds(24) ? 2 : 3;
        Assert.InRange(attemptsWhenDrained, 1, allowed);

        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state WHERE parked_at IS NOT NULL"),
            n => n > 0, TimeSpan.FromSeconds(60), because: "the poison outbox parked");
        output.WriteLine($"parked after {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var line in log.Lines.TakeLast(10))
            output.WriteLine(line);

        // Only the poison one is left, parked after exactly MaxAttempts, each retry on its own schedule (8 s + 16 s),
        // not on every pass.
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"));
        Assert.Equal(3, await infrastructure.Count("SELECT attempts FROM messaging.outbox_parked WHERE outbox_id = $1", poison));
        Assert.Equal(1, await infrastructure.Count("SELECT messages FROM messaging.outbox_parked WHERE outbox_id = $1", poison));
        Assert.Equal(1, await infrastructure.Count(
            "SELECT count(*) FROM messaging.outbox_parked WHERE outbox_id = $1 AND parked_at >= created + interval '24 seconds' AND last_error LIKE '%PRECONDITION_FAILED%'",
            poison));

        // At least once: each refusal closes the channel all the bus's sends share, and MassTransit sends again what was
        // in flight on it, so a few good ones may arrive twice (a consumer's inbox drops the duplicate).
        var good = await Eventually.Until(() => Task.FromResult(probe.Received<LedgerEntryRecorded>().Select(x => x.Reference).Distinct().ToList()),
            r => r.Count >= 1000, because: "every good message arrived");
        Assert.Equal(1000, good.Count(r => r.StartsWith($"{run}:good:", StringComparison.Ordinal)));

        // Operators see it: an error in the log, the outbox check Degraded. And it never looked like a stuck connection.
        Assert.Equal(1, log.Count($"Outbox {poison} parked after 3 failed attempts"));
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "outbox");
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("1 outbox(es) parked", report.Entries["outbox"].Description);
        Assert.Equal(0, host.Services.GetRequiredService<BrokerConnectionRecycler>().Recycles);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_broker_outage_counts_no_attempt_against_any_outbox_and_parks_nothing()
    {
        var run = Guid.NewGuid().ToString("N")[..12];
        var log = new CapturedLog();
        await using var probe = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<LedgerEntryRecorded>(c => p.Record(c, c.Message.Reference)));
        // Were outage failures counted, two passes would park every outbox.
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MaxAttempts = 2;
            b.RetryDelay = TimeSpan.FromMilliseconds(100);
            b.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
            b.MessageDeliveryTimeout = TimeSpan.FromSeconds(2);
            b.SendAbandonGrace = TimeSpan.FromSeconds(1);
            b.MaxBackoff = TimeSpan.FromSeconds(1);
        }, services => services.AddSingleton<ILoggerProvider>(log));
        await PublishInOutboxesOfOneCommit(host, [$"{run}:warm-up"]);
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"), n => n == 0, because: "warm-up delivered");

        await RabbitMqNode.StopApp();
        try
        {
            await PublishInOutboxesOfOneCommit(host, Enumerable.Range(0, 5).Select(i => $"{run}:{i}"));
            await Eventually.Until(() => Task.FromResult(log.Count("Outbox delivery failed")), n => n >= 4, TimeSpan.FromSeconds(60),
                because: "delivery passes failed against the stopped broker");
            Assert.Equal(5, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"));
            Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_state WHERE attempts > 0 OR parked_at IS NOT NULL"));
        }
        finally
        {
            await RabbitMqNode.StartApp();
        }

        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"), n => n == 0, TimeSpan.FromMinutes(2),
            because: "delivery resumed");
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_parked"));
        await Eventually.Until(() => Task.FromResult(probe.Received<LedgerEntryRecorded>().Count(x => x.Reference.StartsWith($"{run}:", StringComparison.Ordinal))),
            n => n >= 6, because: "every message arrived");
        Assert.Equal(0, log.Count("parked after"));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_released_outbox_is_delivered_once_the_cause_is_gone()
    {
        var run = Guid.NewGuid().ToString("N")[..12];
        var poisonQueue = $"poison-{run}";
        await infrastructure.VirtualHost.DeclareExchangeAsync(poisonQueue, "topic");
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.MaxAttempts = 2;
            b.RetryDelay = TimeSpan.FromMilliseconds(200);
        }, services => services.AddHealthChecks().AddOutboxCheck());
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await SendInOneOutbox(host, new Uri($"queue:{poisonQueue}"), $"{run}:poison");
        var poison = await PoisonOutbox(poisonQueue);
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_parked WHERE outbox_id = $1", poison), n => n == 1,
            because: "parked after two refusals");
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(r => r.Name == "outbox")).Status);
        // Listed for support with the failed messages, in the transaction that parked it.
        Assert.Equal(1, await infrastructure.Count(
            "SELECT count(*) FROM messaging.failed_message WHERE outbox_id = $1 AND state = 'failed' AND exception_type = 'OutboxParked' AND queue = $2",
            poison, poisonQueue));

        // The operator removes the conflicting exchange (a consumer of the queue starts, declaring it as MassTransit
        // does) and releases the outbox.
        await infrastructure.VirtualHost.DeleteExchangeAsync(poisonQueue);
        await using var consumer = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<LedgerEntryRecorded>(c => p.Record(c, c.Message.Reference)),
            poisonQueue);
        Assert.True(await Release(poison));
        // Released by hand: no longer waiting for support.
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM messaging.failed_message WHERE outbox_id = $1 AND state = 'retried'", poison));

        await Eventually.Until(() => Task.FromResult(consumer.Received<LedgerEntryRecorded>().Count), n => n > 0, because: "the released outbox delivered");
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"), n => n == 0, because: "and deleted");
        Assert.Equal($"{run}:poison", Assert.Single(consumer.Received<LedgerEntryRecorded>()).Reference);
        Assert.False(await Release(poison));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "outbox")).Status);
        await host.StopAsync();
    }

    static async Task SendInOneOutbox(IHost host, Uri destination, string reference)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var endpoint = await scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(destination);
        await endpoint.Send(new LedgerEntryRecorded(reference));
        await scope.ServiceProvider.GetRequiredService<TestDbContext>().SaveChangesAsync();
    }

    /// <summary>One outbox per reference (each SaveChanges starts a new one), all committed at once.</summary>
    static async Task PublishInOutboxesOfOneCommit(IHost host, IEnumerable<string> references)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        foreach (var reference in references)
        {
            await publish.Publish(new LedgerEntryRecorded(reference));
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }

        await transaction.CommitAsync();
    }

    async Task<Guid> PoisonOutbox(string queue) =>
        (Guid)(await infrastructure.Scalar("SELECT outbox_id FROM messaging.outbox_message WHERE destination_address LIKE '%/' || $1 || '%'", queue))!;

    async Task<bool> Release(Guid outbox) => (bool)(await infrastructure.Scalar("SELECT messaging.release_parked_outbox($1)", outbox))!;
}
