using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sagas.Messaging.Inbox;

/// <summary>
/// Forgets inbox entries whose messages were delivered longer than the duplicate-detection window ago (by the database's
/// clock), in batches
/// (<c>SKIP LOCKED</c>, so several processes can run it and none waits on an entry in use).
/// </summary>
public sealed class InboxCleanupService<TDbContext>(
    IServiceScopeFactory scopeFactory,
    PostgresOutboxOptions options,
    ILogger<InboxCleanupService<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A full batch means there is more: go again at once.
                if (await DeleteExpiredBatch(stoppingToken) < options.InboxCleanupBatchSize)
                    await Task.Delay(options.InboxCleanupInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Inbox cleanup failed");
                await Task.Delay(options.InboxCleanupInterval, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    /// <summary>Deletes at most one batch of expired entries; returns how many.</summary>
    public async Task<int> DeleteExpiredBatch(CancellationToken cancellationToken = default)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        // The database's clock, which also stamped `delivered` (0004_inbox_database_clock.sql): no process's clock
        // skew moves the window.
        var deleted = await dbContext.Database.ExecuteSqlAsync($"""
            DELETE FROM messaging.inbox_state
            WHERE id IN (SELECT id FROM messaging.inbox_state
                         WHERE delivered < now() - {options.DuplicateDetectionWindow}
                         ORDER BY delivered
                         LIMIT {options.InboxCleanupBatchSize}
                         FOR UPDATE SKIP LOCKED)
            """, cancellationToken);
        if (deleted > 0)
            logger.LogDebug("Removed {Count} expired inbox entries", deleted);
        return deleted;
    }
}
