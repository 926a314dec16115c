using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.Messaging;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// The process that commits an outbox sends it itself, right after the commit (<see cref="BusOutboxOptions.HandOff"/>).
/// The delivery loops here poll once an hour and hear of no commit, and a handed-off outbox is committed leased (due
/// only later): whatever arrives within the spec's patience was handed off, and the outbox rows are gone afterwards.
/// </summary>
public sealed class Outbox_hand_off(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>, IAsyncLifetime
{
    static readonly TimeSpan WellWithinTheLease = TimeSpan.FromSeconds(4);
    MessageProbe _probe = null!;

    public async Task InitializeAsync() =>
        _probe = await MessageProbe.Start(infrastructure, (e, probe) => e.Handler<LedgerEntryRecorded>(c => probe.Record(c, c.Message.Reference)));

    public async Task DisposeAsync() => await _probe.DisposeAsync();

    static void LoopsAsleep(BusOutboxOptions b)
    {
        b.ListenForCommits = false;
        b.PollInterval = TimeSpan.FromHours(1);
        b.HandOffLease = TimeSpan.FromSeconds(30);
    }

    [Fact]
    public async Task A_request_outbox_goes_out_at_its_commit_and_one_rolled_back_never_does()
    {
        using var host = await infrastructure.StartHost(_ => { }, o => LoopsAsleep(o.BusOutbox), handOffInRequests: true);
        var implicitCommit = $"implicit-{NewId.NextGuid()}";
        var explicitCommit = $"explicit-{NewId.NextGuid()}";
        var rolledBack = $"rolled-back-{NewId.NextGuid()}";
        var afterRollback = $"after-rollback-{NewId.NextGuid()}";

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();

            await publish.Publish(new LedgerEntryRecorded(implicitCommit));
            await db.SaveChangesAsync();
            await ArrivalOf(implicitCommit);

            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await publish.Publish(new LedgerEntryRecorded(explicitCommit));
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            }

            await ArrivalOf(explicitCommit);

            // Saved in a transaction that rolls back, then a second transaction in the same scope commits: only the
            // second one's outbox exists, and only it goes out.
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await publish.Publish(new LedgerEntryRecorded(rolledBack));
                await db.SaveChangesAsync();
                await transaction.RollbackAsync();
            }

            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await publish.Publish(new LedgerEntryRecorded(afterRollback));
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            }

            await ArrivalOf(afterRollback);
        }

        await OutboxEmpty(implicitCommit, explicitCommit, afterRollback);
        Assert.DoesNotContain(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == rolledBack);
        Assert.Equal(3, _probe.Received<LedgerEntryRecorded>().Count(x => x.Reference is var r && (r == implicitCommit || r == explicitCommit || r == afterRollback)));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_consumers_outbox_goes_out_at_its_commit()
    {
        using var host = await infrastructure.StartHost(x => x.AddConsumer<RecordLedgerEntryConsumer>(), o => LoopsAsleep(o.BusOutbox),
            services => services.AddSingleton(new LedgerFaults()));
        var references = Enumerable.Range(0, 20).Select(i => $"consumed-{i}-{NewId.NextGuid()}").ToArray();

        var ledger = await host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri("queue:record-ledger-entry"));
        foreach (var reference in references)
            await ledger.Send(new RecordLedgerEntry(reference));

        foreach (var reference in references)
            await ArrivalOf(reference);
        await OutboxEmpty(references);
        await host.StopAsync();
    }

    Task ArrivalOf(string reference) =>
        Eventually.Until(() => Task.FromResult(_probe.Received<LedgerEntryRecorded>().Any(x => x.Reference == reference)), WellWithinTheLease,
            because: $"{reference} was sent at its commit, not by a delivery loop");

    // Sent and deleted: the hand-off deletes finished outboxes in batches, shortly after their sends.
    Task OutboxEmpty(params string[] references) =>
        Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM messaging.outbox_message WHERE body LIKE ANY ($1)", new object[] { references.Select(r => $"%{r}%").ToArray() }),
            n => n == 0, WellWithinTheLease, because: "the handed-off outboxes were deleted once sent");
}
