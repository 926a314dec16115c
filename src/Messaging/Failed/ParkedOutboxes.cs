using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Failed;

/// <summary>
/// What support's retry and discard do to a failed message that stands for a parked bus outbox
/// (<see cref="FailedMessage.OutboxId"/>), in the caller's transaction.
/// </summary>
public static class ParkedOutboxes
{
    /// <summary>
    /// Puts the outbox back into delivery (<c>messaging.release_parked_outbox</c>: due at once, attempts 0, delivery
    /// services woken at commit). False when it is parked no longer (delivered or deleted by hand meanwhile).
    /// </summary>
    public static async Task<bool> ReleaseAsync(DbContext db, Guid outboxId, CancellationToken cancellationToken) =>
        (await db.Database.SqlQuery<Release>($"SELECT messaging.release_parked_outbox({outboxId}) AS released")
            .ToListAsync(cancellationToken)).Single().Released;

    /// <summary>Deletes the parked outbox and its messages: they are never sent. False when it is parked no longer.</summary>
    public static async Task<bool> DeleteAsync(DbContext db, Guid outboxId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync(
            $"DELETE FROM messaging.outbox_state WHERE outbox_id = {outboxId} AND parked_at IS NOT NULL", cancellationToken) > 0;

    // Column named by the context's snake_case convention, as every SqlQuery row type's.
    sealed record Release(bool Released);
}
