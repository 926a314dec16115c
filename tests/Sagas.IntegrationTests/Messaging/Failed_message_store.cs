using Npgsql;
using Sagas.Messaging.Failed;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// The error-queue drain's write (<see cref="FailedMessageStore"/>): a redelivered error message — the drain died after
/// the commit and before its ack — leaves one row unchanged; the same message failing again after a retry is counted
/// and waits for a person again.
/// </summary>
public sealed class Failed_message_store(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task A_redelivered_error_message_makes_no_second_row_and_a_later_failure_counts_an_attempt()
    {
        await using var database = NpgsqlDataSource.Create(infrastructure.Database.ConnectionString);
        var store = new FailedMessageStore(database);
        var failedAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        var message = new ErrorQueueMessage(Guid.NewGuid(), "refund-payment", "Sagas.Contracts.Payments:RefundPayment", Guid.NewGuid(),
            "Sagas.Workers.Payments.PaymentProviderRejectedException", "422", failedAt, "application/vnd.masstransit+json",
            "{}"u8.ToArray(), new Dictionary<string, string> { ["MT-Fault-Message"] = "422" });

        Assert.True(await store.RecordAsync(message, CancellationToken.None));
        Assert.False(await store.RecordAsync(message, CancellationToken.None));
        Assert.Equal(1, await Attempts(message.MessageId));

        await using (var retried = database.CreateCommand($"UPDATE messaging.failed_message SET state = 'retried' WHERE message_id = '{message.MessageId}'"))
            await retried.ExecuteNonQueryAsync();
        Assert.True(await store.RecordAsync(message with { FailedAt = failedAt.AddMinutes(1), Reason = "500" }, CancellationToken.None));

        Assert.Equal(2, await Attempts(message.MessageId));
        Assert.Equal(1, await infrastructure.Count(
            "SELECT count(*) FROM messaging.failed_message WHERE message_id = $1 AND state = 'failed' AND reason = '500'", message.MessageId));
    }

    Task<long> Attempts(Guid messageId) =>
        infrastructure.Count("SELECT coalesce(sum(attempts), 0) FROM messaging.failed_message WHERE message_id = $1", messageId);
}
