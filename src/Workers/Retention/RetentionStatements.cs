using Microsoft.EntityFrameworkCore;
using Sagas.Data;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Retention;

/// <summary>
/// Retention's statements, one per table family (src/Data/README.md, "Reaching the database"). Each is one statement,
/// so one transaction, and touches at most a batch of rows: a run never holds many locks for long, and two Workers
/// never take the same rows (the archive function locks with SKIP LOCKED; a delete of rows another run already deleted
/// deletes nothing).
/// </summary>
public sealed class RetentionStatements(FulfilmentDbContext db)
{
    /// <summary>
    /// Moves up to <paramref name="batchSize"/> final, settled orders unchanged since <paramref name="endedBefore"/> with
    /// their history to schema <c>archive</c> (Data migration 0013, <c>archive.archive_orders</c>); returns their ids.
    /// </summary>
    public Task<List<Guid>> ArchiveOrdersAsync(DateTimeOffset endedBefore, int batchSize, CancellationToken cancellationToken)
    {
        var final = OrderStatuses.Final.ToArray();
        return db.Database.SqlQuery<Guid>($"""
            SELECT o AS "Value" FROM archive.archive_orders({final}, {endedBefore}, {batchSize}) AS o
            """).ToListAsync(cancellationToken);
    }

    /// <summary>Deletes up to a batch of reconciliation reports checked before the cut-off, never the latest scheduled one (support's figure).</summary>
    public Task<int> DeleteReportsAsync(DateTimeOffset checkedBefore, int batchSize, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM payments.reconciliation_reports
             WHERE id IN (SELECT r.id FROM payments.reconciliation_reports r
                           WHERE r.checked_at < {checkedBefore}
                             AND r.id <> coalesce((SELECT l.id FROM payments.reconciliation_reports l
                                                    WHERE l.scheduled ORDER BY l.checked_at DESC LIMIT 1), -1)
                           ORDER BY r.checked_at
                           LIMIT {batchSize})
            """, cancellationToken);

    /// <summary>
    /// Deletes up to a batch of failed messages support retried or discarded before the cut-off (their actions go with
    /// them, ON DELETE CASCADE). A message still waiting for a person is never deleted, however old.
    /// </summary>
    public Task<int> DeleteSettledFailedMessagesAsync(DateTimeOffset settledBefore, int batchSize, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM messaging.failed_message
             WHERE id IN (SELECT f.id FROM messaging.failed_message f
                           WHERE f.state IN ('retried', 'discarded')
                             AND coalesce(f.state_changed_at, f.last_failed_at) < {settledBefore}
                           ORDER BY f.id
                           LIMIT {batchSize})
            """, cancellationToken);
}
