using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Sagas.Contracts.Inventory;
using Sagas.Data;

namespace Sagas.Workers.Inventory;

public abstract record HoldOutcome
{
    public sealed record Held(DateTimeOffset HeldUntil) : HoldOutcome;
    public sealed record Rejected(string Reason, IReadOnlyList<string> Skus) : HoldOutcome;
}

public abstract record CommitOutcome
{
    public sealed record Committed : CommitOutcome;
    public sealed record Refused(string Reason) : CommitOutcome;
}

/// <summary>
/// Every change to stock. Each operation runs inside the caller's transaction when there is one (the
/// consumer outbox's, so the stock change, the inbox mark and the outgoing event commit together) and in a
/// transaction of its own otherwise. Item rows are always locked in sku order, so two orders touching the
/// same items queue behind each other instead of deadlocking, and the database's
/// <c>0 ≤ held ≤ on_hand</c> constraint is the last line of defence against oversell.
/// </summary>
public sealed class StockLedger(FulfilmentDbContext db, TimeProvider clock)
{
    /// <summary>All lines or none: holds every line of <paramref name="orderId"/> until <paramref name="holdUntil"/>.</summary>
    public Task<HoldOutcome> HoldAsync(Guid orderId, IReadOnlyList<StockLine> lines, DateTimeOffset holdUntil,
        CancellationToken cancellationToken = default) =>
        InTransaction<HoldOutcome>(async (connection, transaction) =>
        {
            // A redelivered HoldStock finds its holds and answers as the first delivery did.
            await using (var existing = Command(connection, transaction,
                             "SELECT max(expires_at) FROM inventory.stock_holds WHERE order_id = $1", orderId))
            {
                if (await existing.ExecuteScalarAsync(cancellationToken) is DateTime heldUntil)
                    return new HoldOutcome.Held(new DateTimeOffset(heldUntil, TimeSpan.Zero));
            }

            var wanted = lines.GroupBy(l => l.Sku, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity), StringComparer.Ordinal);
            var skus = wanted.Keys.Order(StringComparer.Ordinal).ToArray();

            var available = new Dictionary<string, int>(StringComparer.Ordinal);
            await using (var lockItems = Command(connection, transaction,
                             "SELECT sku, on_hand - held FROM inventory.items WHERE sku = ANY($1) ORDER BY sku FOR UPDATE", (object)skus))
            await using (var reader = await lockItems.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                    available[reader.GetString(0)] = reader.GetInt32(1);
            }

            var unknown = skus.Where(s => !available.ContainsKey(s)).ToList();
            if (unknown.Count > 0)
                return new HoldOutcome.Rejected("unknown-sku", unknown);
            var insufficient = skus.Where(s => available[s] < wanted[s]).ToList();
            if (insufficient.Count > 0)
                return new HoldOutcome.Rejected("insufficient-stock", insufficient);

            var quantities = skus.Select(s => wanted[s]).ToArray();
            var now = clock.GetUtcNow();
            await using (var hold = Command(connection, transaction, """
                             UPDATE inventory.items i SET held = i.held + l.quantity, updated_at = $3
                               FROM unnest($1::text[], $2::integer[]) AS l(sku, quantity)
                              WHERE i.sku = l.sku
                             """, skus, quantities, now))
            {
                await hold.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = Command(connection, transaction, """
                             INSERT INTO inventory.stock_holds (order_id, sku, quantity, status, expires_at, created_at, updated_at)
                             SELECT $3, l.sku, l.quantity, 'Active', $4, $5, $5
                               FROM unnest($1::text[], $2::integer[]) AS l(sku, quantity)
                             """, skus, quantities, orderId, holdUntil, now))
            {
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            return new HoldOutcome.Held(holdUntil);
        }, cancellationToken);

    /// <summary>
    /// Turns the order's holds into a sale: only when every hold is still Active and unexpired. Committing
    /// twice is harmless (already committed → committed).
    /// </summary>
    public Task<CommitOutcome> CommitAsync(Guid orderId, CancellationToken cancellationToken = default) =>
        InTransaction<CommitOutcome>(async (connection, transaction) =>
        {
            await LockItemsOf(connection, transaction, orderId, cancellationToken);
            var now = clock.GetUtcNow();
            int total, active, committed;
            await using (var count = Command(connection, transaction, """
                             SELECT count(*)::int,
                                    count(*) FILTER (WHERE status = 'Active' AND expires_at > $2)::int,
                                    count(*) FILTER (WHERE status = 'Committed')::int
                               FROM inventory.stock_holds WHERE order_id = $1
                             """, orderId, now))
            await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                (total, active, committed) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
            }

            if (total > 0 && committed == total)
                return new CommitOutcome.Committed();
            if (total == 0)
                return new CommitOutcome.Refused("hold-missing");
            if (active != total)
                return new CommitOutcome.Refused("hold-expired");

            await using (var commit = Command(connection, transaction, """
                             WITH moved AS (
                                 UPDATE inventory.stock_holds SET status = 'Committed', updated_at = $2
                                  WHERE order_id = $1 AND status = 'Active'
                              RETURNING sku, quantity)
                             UPDATE inventory.items i
                                SET on_hand = i.on_hand - m.quantity, held = i.held - m.quantity, updated_at = $2
                               FROM moved m WHERE i.sku = m.sku
                             """, orderId, now))
            {
                await commit.ExecuteNonQueryAsync(cancellationToken);
            }

            return new CommitOutcome.Committed();
        }, cancellationToken);

    /// <summary>
    /// Gives the order's stock back: Active holds are released, Committed ones returned to <c>on_hand</c>
    /// (a placed order canceled by support). Holds already released, expired or returned are left alone, so
    /// this is safe to repeat. Returns the number of hold rows it changed.
    /// </summary>
    public Task<int> ReleaseAsync(Guid orderId, CancellationToken cancellationToken = default) =>
        InTransaction(async (connection, transaction) =>
        {
            await LockItemsOf(connection, transaction, orderId, cancellationToken);
            await using var release = Command(connection, transaction, """
                WITH moved AS (
                    UPDATE inventory.stock_holds
                       SET status = CASE status WHEN 'Active' THEN 'Released' ELSE 'Returned' END, updated_at = $2
                     WHERE order_id = $1 AND status IN ('Active', 'Committed')
                 RETURNING sku, quantity, status)
                UPDATE inventory.items i
                   SET held    = i.held    - CASE WHEN m.status = 'Released' THEN m.quantity ELSE 0 END,
                       on_hand = i.on_hand + CASE WHEN m.status = 'Returned' THEN m.quantity ELSE 0 END,
                       updated_at = $2
                  FROM moved m WHERE i.sku = m.sku
                """, orderId, clock.GetUtcNow());
            return await release.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// The sweep: Active holds past their expiry go back to available stock, at most
    /// <paramref name="batchSize"/> orders per call. Orders being worked on by another transaction are
    /// skipped (SKIP LOCKED) and picked up by a later sweep, so several Workers can sweep at once.
    /// Returns the orders whose holds expired.
    /// </summary>
    public Task<IReadOnlyList<Guid>> ExpireOverdueAsync(int batchSize, CancellationToken cancellationToken = default) =>
        InTransaction<IReadOnlyList<Guid>>(async (connection, transaction) =>
        {
            var now = clock.GetUtcNow();
            var orders = new List<Guid>();
            await using (var pick = Command(connection, transaction, """
                             SELECT DISTINCT order_id FROM (
                                 SELECT order_id FROM inventory.stock_holds
                                  WHERE status = 'Active' AND expires_at <= $1
                                  ORDER BY expires_at
                                  LIMIT $2
                                  FOR UPDATE SKIP LOCKED) overdue
                             """, now, batchSize))
            await using (var reader = await pick.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                    orders.Add(reader.GetGuid(0));
            }

            foreach (var orderId in orders)
            {
                await LockItemsOf(connection, transaction, orderId, cancellationToken);
                await using var expire = Command(connection, transaction, """
                    WITH moved AS (
                        UPDATE inventory.stock_holds SET status = 'Expired', updated_at = $2
                         WHERE order_id = $1 AND status = 'Active' AND expires_at <= $2
                     RETURNING sku, quantity)
                    UPDATE inventory.items i SET held = i.held - m.quantity, updated_at = $2
                      FROM moved m WHERE i.sku = m.sku
                    """, orderId, now);
                await expire.ExecuteNonQueryAsync(cancellationToken);
            }

            return orders;
        }, cancellationToken);

    static async Task LockItemsOf(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId,
        CancellationToken cancellationToken)
    {
        await using var lockItems = Command(connection, transaction, """
            SELECT 1 FROM inventory.items
             WHERE sku IN (SELECT sku FROM inventory.stock_holds WHERE order_id = $1)
             ORDER BY sku FOR UPDATE
            """, orderId);
        await lockItems.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task<T> InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is { } ambient)
            return await work((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)ambient.GetDbTransaction());

        await using var own = await db.Database.BeginTransactionAsync(cancellationToken);
        var result = await work((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)own.GetDbTransaction());
        await own.CommitAsync(cancellationToken);
        return result;
    }

    static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
