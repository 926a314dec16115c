using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Sagas.Messaging;
using Sagas.Messaging.Inbox;
using Sagas.Messaging.Sagas;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// Consumers behind the PostgreSQL inbox and consumer outbox, on RabbitMQ: what a consumer publishes is committed with its
/// work as a bus outbox and sent by the delivery service after the commit.
/// </summary>
public sealed class Consumer_inbox_and_outbox(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>, IAsyncLifetime
{
    static readonly Uri LedgerQueue = new("queue:record-ledger-entry");

    readonly LedgerFaults _faults = new();
    readonly FailFirstSend _sendFaults = new();
    IHost _host = null!;
    MessageProbe _probe = null!;

    IBus Bus => _host.Services.GetRequiredService<IBus>();

    public async Task InitializeAsync()
    {
        _probe = await MessageProbe.Start(infrastructure, (e, probe) =>
        {
            e.Handler<LedgerEntryRecorded>(c => probe.Record(c, c.Message.Reference));
            e.Handler<Fault<RecordLedgerEntry>>(c => probe.Record(c, c.Message.Message.Reference));
            e.Handler<NameReserved>(c => probe.Record(c, c.Message.Name));
        });
        _host = await infrastructure.StartHost(x =>
        {
            x.AddConsumer<RecordLedgerEntryConsumer>();
            x.AddConsumer<ReserveNameConsumer>();
            x.AddSagaStateMachine<CounterStateMachine, CounterState>().PostgresRepository(r => r.ExistingDbContext<TestDbContext>());
        }, configureServices: services => services.AddSingleton(_faults), configureRabbitMq: cfg => cfg.ConnectSendObserver(_sendFaults));
    }

    async Task SendToLedger(string reference, Guid messageId) =>
        await (await Bus.GetSendEndpoint(LedgerQueue)).Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);

    Task Recorded(string reference, string because) =>
        Eventually.Until(() => Task.FromResult(_probe.Received<LedgerEntryRecorded>().Any(x => x.Reference == reference)), because: because);

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _probe.DisposeAsync();
    }

    [Fact]
    public async Task The_consume_transaction_finishes_the_inbox_entry_and_commits_the_messages_as_a_bus_outbox()
    {
        var messageId = NewId.NextGuid();
        var reference = $"handoff-{messageId}";

        await SendToLedger(reference, messageId);

        await Recorded(reference, "the delivery service sent the handed-off message");
        // Consumed and delivered in the same transaction: one timestamp, no second pass.
        Assert.Equal(1, await infrastructure.Count(
            "SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1 AND consumed = delivered AND receive_count = 1", messageId));
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%'", reference),
            n => n == 0, because: "the delivered bus outbox rows are removed");
    }

    [Fact]
    public async Task A_message_delivered_three_times_takes_effect_once_and_publishes_once()
    {
        var messageId = NewId.NextGuid();
        var reference = $"triple-{messageId}";
        using var metrics = new MetricRecorder(_host.Services.GetRequiredService<IMeterFactory>());

        var endpoint = await Bus.GetSendEndpoint(LedgerQueue);
        for (var i = 0; i < 3; i++)
            await endpoint.Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);

        await Eventually.Until(() => infrastructure.Count(
                "SELECT coalesce(sum(receive_count), 0) FROM messaging.inbox_state WHERE message_id = $1 AND delivered IS NOT NULL", messageId),
            n => n == 3, because: "all three deliveries handled");
        await SentinelPassedTheProbe();

        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.Single(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
        Assert.Equal(1, await infrastructure.Count(
            "SELECT count(*) FROM test.probe_received WHERE kind = 'LedgerEntryRecorded' AND reference = $1", reference));
        Assert.Equal(1, _faults.CommittedCount(reference));
        // A redelivery that finds the entry consumed is dropped and counted; one that arrives while the first still holds
        // the entry's lock waits and is then dropped too, so two.
        Assert.Equal(2, metrics.Sum("sagas.inbox.duplicates", ("message_type", nameof(RecordLedgerEntry))));
    }

    [Fact]
    public async Task A_consumer_that_throws_after_writing_commits_nothing_and_its_redelivery_succeeds_once()
    {
        var messageId = NewId.NextGuid();
        var reference = $"throws-{messageId}";
        _faults.FailNext(reference, new InvalidOperationException("failed after writing and publishing"));

        var endpoint = await Bus.GetSendEndpoint(LedgerQueue);
        await endpoint.Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);

        await Eventually.Until(() => Task.FromResult(_probe.Received<Fault<RecordLedgerEntry>>().Any(f => f.Message.Reference == reference)),
            because: "the consumer faulted");
        await SentinelPassedTheProbe();

        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1", messageId));
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%'", reference));
        Assert.DoesNotContain(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
        Assert.Equal(0, _faults.CommittedCount(reference));

        // The same message again (it went to the error queue; this is its redelivery).
        await endpoint.Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);

        await Recorded(reference, "the redelivery succeeded");
        await SentinelPassedTheProbe();

        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.Single(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
        Assert.Equal(2, _faults.AttemptsOf(reference).Count);
        Assert.Equal(1, _faults.CommittedCount(reference));
    }

    [Fact]
    public async Task A_consume_transaction_that_fails_at_commit_publishes_a_fault_of_the_message_type()
    {
        var messageId = NewId.NextGuid();
        var reference = $"fail-commit-{messageId}";

        await SendToLedger(reference, messageId);

        var fault = await Eventually.Until(() => Task.FromResult(_probe.Received<Fault<RecordLedgerEntry>>().SingleOrDefault(f => f.Message.Reference == reference)),
            f => f is not null, because: "a Fault<RecordLedgerEntry> for the message whose commit failed");
        Assert.Contains(fault!.Exceptions, e => e.Message.Contains("commit_child", StringComparison.Ordinal));
        await SentinelPassedTheProbe();
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.DoesNotContain(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
        Assert.Equal(0, _faults.CommittedCount(reference));
    }

    [Fact]
    public async Task A_database_conflict_is_retried_in_a_fresh_scope_and_takes_effect_once()
    {
        var reference = $"conflict-{NewId.NextGuid()}";
        _faults.FailNext(reference, LedgerFaults.SerializationFailure());

        var endpoint = await Bus.GetSendEndpoint(LedgerQueue);
        await endpoint.Send(new RecordLedgerEntry(reference));

        await Recorded(reference, "the retry succeeded");
        await SentinelPassedTheProbe();

        var attempts = _faults.AttemptsOf(reference);
        Assert.Equal(2, attempts.Count);
        Assert.NotEqual(attempts[0], attempts[1]); // a new DbContext (so a new scope) for the retry
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.Single(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
        Assert.DoesNotContain(_probe.Received<Fault<RecordLedgerEntry>>(), x => x.Message.Reference == reference);
        // What the consumer counts after its commit: once, for the attempt that committed.
        Assert.Equal(1, _faults.CommittedCount(reference));
    }

    [Fact]
    public async Task A_failed_delivery_of_a_committed_outbox_is_retried_without_consuming_again()
    {
        var messageId = NewId.NextGuid();
        var reference = $"fail-delivery-{messageId}";

        await SendToLedger(reference, messageId);

        await Recorded(reference, "the retried delivery sent the stored message");
        await SentinelPassedTheProbe();

        // The first send of the consumer's message did fail, and what arrived is that message, sent again.
        var recorded = Assert.Single(_probe.Arrivals, x => x.Message is LedgerEntryRecorded r && r.Reference == reference);
        Assert.Equal(1, _sendFaults.Failed.Count(x => x == recorded.MessageId));
        Assert.Single(_faults.AttemptsOf(reference)); // consumed once; only the delivery was retried
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.DoesNotContain(_probe.Received<Fault<RecordLedgerEntry>>(), x => x.Message.Reference == reference);
    }

    [Fact]
    public async Task A_unique_violation_from_a_concurrent_writer_is_retried_in_a_fresh_scope()
    {
        var name = $"name-{NewId.NextGuid()}";

        // Another writer inserts the same key and keeps its transaction open: the consumer's insert waits on it.
        await using var writer = new Npgsql.NpgsqlConnection(infrastructure.Database.ConnectionString);
        await writer.OpenAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO test.reservation (name) VALUES ($1)", writer, transaction))
        {
            insert.Parameters.Add(new Npgsql.NpgsqlParameter { Value = name });
            await insert.ExecuteNonQueryAsync();
        }

        await Bus.Publish(new ReserveName(name));
        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"),
            n => n >= 1, because: "the consumer waits on the other writer's key");
        await transaction.CommitAsync(); // the consumer's insert now fails with 23505

        await Eventually.Until(() => Task.FromResult(_probe.Received<NameReserved>().Any(x => x.Name == name)), because: "the retry succeeded");
        await SentinelPassedTheProbe();

        var attempts = _faults.AttemptsOf(name);
        Assert.Equal(2, attempts.Count);
        Assert.NotEqual(attempts[0], attempts[1]);
        Assert.True(Assert.Single(_probe.Received<NameReserved>(), x => x.Name == name).AlreadyTaken);
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.reservation WHERE name = $1", name));
    }

    [Fact]
    public async Task Every_consumer_and_saga_on_the_bus_runs_behind_the_inbox()
    {
        var ledgerMessage = NewId.NextGuid();
        var counterMessage = NewId.NextGuid();

        await SendToLedger($"inbox-{ledgerMessage}", ledgerMessage);
        await Bus.Publish(new Increment(NewId.NextGuid()), c => c.MessageId = counterMessage);

        foreach (var messageId in new[] { ledgerMessage, counterMessage })
        {
            await Eventually.Until(() => infrastructure.Count(
                    "SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1 AND consumed IS NOT NULL", messageId),
                n => n == 1, because: $"inbox entry of {messageId}");
        }

        Assert.Equal(2, await infrastructure.Count(
            "SELECT count(DISTINCT consumer_id) FROM messaging.inbox_state WHERE message_id = ANY($1)", new[] { ledgerMessage, counterMessage }));
    }

    [Fact]
    public async Task Inbox_entries_past_the_duplicate_detection_window_are_removed_in_batches()
    {
        // The host's own cleanup service keeps the default window, so it never removes what this test creates; a
        // second instance with a zero window and batches of two removes it, and only when called below. (A host started
        // with a zero window ran its start-up pass while the five messages were being consumed and removed entries the
        // test was still waiting for.)
        var messageIds = Enumerable.Range(0, 5).Select(_ => NewId.NextGuid()).ToArray();
        var endpoint = await Bus.GetSendEndpoint(LedgerQueue);
        foreach (var messageId in messageIds)
            await endpoint.Send(new RecordLedgerEntry($"cleanup-{messageId}"), c => c.MessageId = messageId);

        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM messaging.inbox_state WHERE message_id = ANY($1) AND delivered IS NOT NULL", messageIds),
            n => n == 5, because: "five messages consumed");

        Assert.Single(_host.Services.GetServices<IHostedService>().OfType<InboxCleanupService<TestDbContext>>());
        var cleanup = new InboxCleanupService<TestDbContext>(_host.Services.GetRequiredService<IServiceScopeFactory>(),
            new PostgresOutboxOptions { DuplicateDetectionWindow = TimeSpan.Zero, InboxCleanupBatchSize = 2 },
            NullLogger<InboxCleanupService<TestDbContext>>.Instance);
        var batches = new List<int>();
        int deleted;
        while ((deleted = await cleanup.DeleteExpiredBatch()) > 0)
            batches.Add(deleted);

        Assert.All(batches, size => Assert.InRange(size, 1, 2));
        Assert.True(batches.Sum() >= 5);
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.inbox_state WHERE message_id = ANY($1)", messageIds));
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM messaging.inbox_state WHERE delivered IS NOT NULL"));
    }

    [Fact]
    public async Task The_duplicate_detection_window_is_measured_on_the_database_clock()
    {
        var messageId = NewId.NextGuid();
        var reference = $"clock-{messageId}";
        var endpoint = await Bus.GetSendEndpoint(LedgerQueue);
        await endpoint.Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);
        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1 AND delivered IS NOT NULL", messageId),
            n => n == 1, because: "the message consumed");

        // What a consumer in a process whose clock runs two hours behind would write.
        Assert.Equal(1, await infrastructure.Count("""
            WITH stamped AS (UPDATE messaging.inbox_state
                             SET consumed = now() - interval '2 hours', delivered = now() - interval '2 hours'
                             WHERE message_id = $1 RETURNING 1)
            SELECT count(*) FROM stamped
            """, messageId));

        var cleanup = new InboxCleanupService<TestDbContext>(_host.Services.GetRequiredService<IServiceScopeFactory>(),
            new PostgresOutboxOptions { DuplicateDetectionWindow = TimeSpan.FromMinutes(30) },
            NullLogger<InboxCleanupService<TestDbContext>>.Instance);
        while (await cleanup.DeleteExpiredBatch() > 0)
        {
        }

        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM messaging.inbox_state WHERE message_id = $1", messageId));
        await endpoint.Send(new RecordLedgerEntry(reference), c => c.MessageId = messageId);
        await Eventually.Until(() => infrastructure.Count("SELECT receive_count FROM messaging.inbox_state WHERE message_id = $1", messageId),
            n => n == 2, because: "the redelivery reached the inbox");
        await SentinelPassedTheProbe();
        Assert.Equal(1, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference));
        Assert.Single(_probe.Received<LedgerEntryRecorded>(), x => x.Reference == reference);
    }

    // The probe consumes one message at a time in queue order: once a message published after the ones under test
    // has arrived, anything those could still have produced would have arrived before it. Order only holds per outbox,
    // though: the delivery service sends different bus outboxes concurrently, so the sentinel's message may overtake one
    // committed earlier. Hence first wait until nothing committed is left unsent (a row goes once the broker has it).
    async Task SentinelPassedTheProbe()
    {
        await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0,
            because: "every committed message reached the broker");
        var sentinel = $"sentinel-{NewId.NextGuid()}";
        await (await Bus.GetSendEndpoint(LedgerQueue)).Send(new RecordLedgerEntry(sentinel));
        await Recorded(sentinel, "the sentinel reached the probe");
    }
}
