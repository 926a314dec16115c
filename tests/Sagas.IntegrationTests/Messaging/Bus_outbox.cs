using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.Messaging;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>Publishes and sends made outside consumers (as the Api does), through the bus outbox.</summary>
public sealed class Bus_outbox(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>, IAsyncLifetime
{
    MessageProbe _probe = null!;

    public async Task InitializeAsync() =>
        _probe = await MessageProbe.Start(infrastructure, (e, probe) => e.Handler<LedgerEntryRecorded>(c => probe.Record(c, c.Message.Reference)));

    public async Task DisposeAsync() => await _probe.DisposeAsync();

    [Fact]
    public async Task Nothing_is_sent_when_the_callers_transaction_rolls_back()
    {
        using var host = await infrastructure.StartOutboxHost();
        var rolledBack = $"rolled-back-{NewId.NextGuid()}";
        var committed = $"committed-{NewId.NextGuid()}";

        await InRequest(host, async (publish, db) =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await publish.Publish(new LedgerEntryRecorded(rolledBack));
            db.Ledger.Add(new LedgerEntry { Reference = rolledBack });
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });
        await InRequest(host, async (publish, db) =>
        {
            await publish.Publish(new LedgerEntryRecorded(committed));
            db.Ledger.Add(new LedgerEntry { Reference = committed });
            await db.SaveChangesAsync();
        });

        await Eventually.Until(() => Task.FromResult(_probe.Received<LedgerEntryRecorded>().Any(x => x.Reference == committed)));
        Assert.DoesNotContain(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == rolledBack);
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", rolledBack));
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_state"), n => n == 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task Ids_headers_content_type_message_types_and_transport_properties_survive_the_round_trip()
    {
        using var host = await infrastructure.StartOutboxHost();
        var (messageId, correlationId, conversationId, initiatorId) = (NewId.NextGuid(), NewId.NextGuid(), NewId.NextGuid(), NewId.NextGuid());
        var sentId = NewId.NextGuid();
        var published = $"published-{messageId}";
        var sent = $"sent-{sentId}";

        await InRequest(host, async (publish, db, send) =>
        {
            await publish.Publish(new LedgerEntryRecorded(published), c =>
            {
                c.MessageId = messageId;
                c.CorrelationId = correlationId;
                c.ConversationId = conversationId;
                c.InitiatorId = initiatorId;
                c.Headers.Set("X-Tenant", "acme");
                c.Headers.Set("X-Attempt", 3);
                c.SetRoutingKey("orders.eu");
                c.SetPriority(7);
            });
            var endpoint = await send.GetSendEndpoint(_probe.InputAddress);
            await endpoint.Send(new LedgerEntryRecorded(sent), c =>
            {
                c.MessageId = sentId;
                c.Headers.Set("X-Tenant", "globex");
            });
            await db.SaveChangesAsync();
        });

        var arrivals = await Eventually.Until(() => Task.FromResult(_probe.Arrivals),
            a => a.Any(x => x.Message is LedgerEntryRecorded { Reference: var r } && r == published)
                 && a.Any(x => x.Message is LedgerEntryRecorded { Reference: var r } && r == sent));

        var p = arrivals.Single(x => x.Message is LedgerEntryRecorded { Reference: var r } && r == published);
        Assert.Equal(messageId, p.MessageId);
        Assert.Equal(correlationId, p.CorrelationId);
        Assert.Equal(conversationId, p.ConversationId);
        Assert.Equal(initiatorId, p.InitiatorId);
        Assert.Equal("acme", p.Headers["X-Tenant"]?.ToString());
        Assert.Equal("3", p.Headers["X-Attempt"]?.ToString());
        Assert.Equal("application/vnd.masstransit+json", p.ContentType);
        Assert.Contains(p.MessageTypes, t => t.EndsWith(":LedgerEntryRecorded", StringComparison.Ordinal));
        Assert.Equal("orders.eu", p.RoutingKey);
        Assert.Equal((byte)7, p.Priority);

        var s = arrivals.Single(x => x.Message is LedgerEntryRecorded { Reference: var r } && r == sent);
        Assert.Equal(sentId, s.MessageId);
        Assert.Equal("globex", s.Headers["X-Tenant"]?.ToString());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_commit_in_this_process_wakes_delivery_without_waiting_for_the_poll()
    {
        using var host = await infrastructure.StartOutboxHost(b =>
        {
            b.ListenForCommits = false;
            b.PollInterval = TimeSpan.FromHours(1);
        });

        for (var round = 0; round < 3; round++)
        {
            var implicitCommit = $"implicit-{NewId.NextGuid()}";
            var explicitCommit = $"explicit-{NewId.NextGuid()}";
            await InRequest(host, async (publish, db) =>
            {
                await publish.Publish(new LedgerEntryRecorded(implicitCommit));
                await db.SaveChangesAsync();
            });
            await ArrivalOf(implicitCommit);

            await InRequest(host, async (publish, db) =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                await publish.Publish(new LedgerEntryRecorded(explicitCommit));
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            });
            await ArrivalOf(explicitCommit);
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task A_commit_in_another_process_wakes_delivery_through_notify()
    {
        using var writer = await infrastructure.StartOutboxHost(b => b.DeliveryServiceEnabled = false);
        using var deliverer = await infrastructure.StartOutboxHost(b => b.PollInterval = TimeSpan.FromHours(1));

        for (var round = 0; round < 3; round++)
        {
            var reference = $"elsewhere-{NewId.NextGuid()}";
            await InRequest(writer, async (publish, db) =>
            {
                await publish.Publish(new LedgerEntryRecorded(reference));
                await db.SaveChangesAsync();
            });
            await ArrivalOf(reference);
        }

        await writer.StopAsync();
        await deliverer.StopAsync();
    }

    [Fact]
    public async Task Several_delivery_services_send_every_outbox_once_and_in_order()
    {
        using var writer = await infrastructure.StartOutboxHost(b => b.DeliveryServiceEnabled = false);
        using var first = await infrastructure.StartOutboxHost(b => b.OutboxBatchSize = 2);
        using var second = await infrastructure.StartOutboxHost(b => b.OutboxBatchSize = 2);
        var run = NewId.NextGuid().ToString("N");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(outbox => InRequest(writer, async (publish, db) =>
        {
            for (var sequence = 0; sequence < 10; sequence++)
                await publish.Publish(new LedgerEntryRecorded($"{run}:{outbox}:{sequence}"));
            await db.SaveChangesAsync();
        })));

        var received = await Eventually.Until(() => Task.FromResult(References(run)), r => r.Count >= 200, TimeSpan.FromSeconds(60));
        Assert.Equal(200, received.Distinct().Count());
        Assert.Equal(200, received.Count);
        foreach (var outbox in received.Select(Parse).GroupBy(x => x.Outbox))
            Assert.Equal(Enumerable.Range(0, 10), outbox.Select(x => x.Sequence));

        await writer.StopAsync();
        await first.StopAsync();
        await second.StopAsync();
    }

    [Fact]
    public async Task One_outbox_about_several_things_keeps_the_order_of_each()
    {
        // Sent side by side, chain by chain (OutboxMessageSender): what is about the same thing (correlation id) to the
        // same place still arrives in the order it was written.
        using var host = await infrastructure.StartOutboxHost();
        var run = NewId.NextGuid().ToString("N");
        var things = Enumerable.Range(0, 5).Select(_ => NewId.NextGuid()).ToArray();

        await InRequest(host, async (publish, db) =>
        {
            for (var sequence = 0; sequence < 20; sequence++)
                for (var thing = 0; thing < things.Length; thing++)
                    await publish.Publish(new LedgerEntryRecorded($"{run}:{thing}:{sequence}"), c => c.CorrelationId = things[thing]);
            await db.SaveChangesAsync();
        });

        var received = await Eventually.Until(() => Task.FromResult(References(run)), r => r.Count >= 100, TimeSpan.FromSeconds(60));
        Assert.Equal(100, received.Distinct().Count());
        foreach (var thing in received.Select(Parse).GroupBy(x => x.Outbox))
            Assert.Equal(Enumerable.Range(0, 20), thing.Select(x => x.Sequence));

        await host.StopAsync();
    }

    List<string> References(string run) =>
        _probe.Received<LedgerEntryRecorded>().Select(x => x.Reference).Where(r => r.StartsWith(run, StringComparison.Ordinal)).ToList();

    static (int Outbox, int Sequence) Parse(string reference)
    {
        var parts = reference.Split(':');
        return (int.Parse(parts[1]), int.Parse(parts[2]));
    }

    Task ArrivalOf(string reference) =>
        Eventually.Until(() => Task.FromResult(_probe.Received<LedgerEntryRecorded>().Any(x => x.Reference == reference)),
            because: $"{reference} delivered");

    static Task InRequest(IHost host, Func<IPublishEndpoint, TestDbContext, Task> work) =>
        InRequest(host, (publish, db, _) => work(publish, db));

    // What an HTTP request handler gets from its request scope.
    static async Task InRequest(IHost host, Func<IPublishEndpoint, TestDbContext, ISendEndpointProvider, Task> work)
    {
        await using var scope = host.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<IPublishEndpoint>(), scope.ServiceProvider.GetRequiredService<TestDbContext>(),
            scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>());
    }
}
