using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// Tells the scope's bus outbox when the scope's DbContext committed a transaction it began
/// (<c>Database.BeginTransaction…Commit</c>), which EF Core reports only to interceptors. Without it a bus outbox
/// written inside such a transaction cannot know when it may be sent, so it is left to the delivery loops instead of
/// being handed off (<see cref="BusOutboxOptions.HandOff"/>). Scoped; installed by
/// <see cref="OutboxHandOffExtensions.UseOutboxHandOff"/>.
/// </summary>
public sealed class OutboxCommits
{
    /// <summary>True once the scope's DbContext reports its commits here.</summary>
    public bool Reported { get; internal set; }

    internal event Action? Committed;

    internal event Action? Began;

    internal void OnCommitted() => Committed?.Invoke();

    internal void OnBegan() => Began?.Invoke();
}

sealed class OutboxCommitInterceptor(OutboxCommits commits) : DbTransactionInterceptor
{
    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        commits.OnBegan();
        return result;
    }

    public override ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData,
        DbTransaction result, CancellationToken cancellationToken = default)
    {
        commits.OnBegan();
        return ValueTask.FromResult(result);
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => commits.OnCommitted();

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        commits.OnCommitted();
        return Task.CompletedTask;
    }
}

public static class OutboxHandOffExtensions
{
    /// <summary>
    /// Lets the bus outbox of the scope hand off what a transaction of this DbContext committed
    /// (<see cref="BusOutboxOptions.HandOff"/>); call it in <c>AddDbContext((provider, options) => …)</c>, whose provider
    /// is the scope's. Does nothing where the bus outbox is not registered.
    /// </summary>
    public static DbContextOptionsBuilder UseOutboxHandOff(this DbContextOptionsBuilder options, IServiceProvider scopedProvider)
    {
        if (scopedProvider.GetService<OutboxCommits>() is { } commits)
        {
            commits.Reported = true;
            options.AddInterceptors(new OutboxCommitInterceptor(commits));
        }

        return options;
    }
}
