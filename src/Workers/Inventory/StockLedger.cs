using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Sagas.Contracts.Inventory;
using Sagas.Data;
using Sagas.Data.Inventory;
using Sagas.Data.Ordering;

namespace Sagas.Workers.Inventory;

public abstract record HoldOutcome
{
    public sealed record Held(DateTimeOffset HeldUntil) : HoldOutcome;
    public sealed record Rejected(string Reason, IReadOnlyList<string> Skus) : HoldOutcome;
}

/// <summary>One sweep batch: orders whose stock went back, live orders to tell, and how many were looked at.</summary>
public sealed record OverdueHolds(IReadOnlyList<Guid> Released, IReadOnlyList<(Guid OrderId, DateTimeOffset ExpiredAt)> Live, int Examined);

public abstract record CommitOutcome
{
    public sealed record Committed : CommitOutcome;
    public sealed record Refused(string Reason) : CommitOutcome;
}

/// <summary>
/// Every change to stock. Each operation runs inside the caller's transaction when there is one (the
/// consumer outbox's, so the stock change, the inbox mark and the outgoing event commit together) and in a
/// transaction of its own otherwise. Item rows are always locked in sku order, and always before hold rows, so
/// two orders touching the same items queue behind each other instead of deadlocking, and the database's
/// <c>0 ≤ held ≤ on_hand</c> constraint is the last line of defence against oversell. Every time is the
/// database's (<c>now()</c>), the one clock that hold expiries are made and judged by.
/// </summary>
public sealed class StockLedger(FulfilmentDbContext db)
{
    // A hold's status in SQL, spelled as EF stores StockHoldStatus (by name, StockHoldConfiguration).
    const string Active = nameof(StockHoldStatus.Active), Committed = nameof(StockHoldStatus.Committed),
        Released = nameof(StockHoldStatus.Released), Expired = nameof(StockHoldStatus.Expired),
        Returned = nameof(StockHoldStatus.Returned);

    /// <summary>
    /// All lines or none: holds every line of <paramref name="orderId"/> for <paramref name="holdFor"/> from now by
    /// the database's clock, so a hold is never created already expired, however long the command waited.
    /// </summary>
    public Task<HoldOutcome> HoldAsync(Guid orderId, IReadOnlyList<StockLine> lines, TimeSpan holdFor,
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
                return new HoldOutcome.Rejected(StockRefusals.UnknownSku, unknown);
            var insufficient = skus.Where(s => available[s] < wanted[s]).ToList();
            if (insufficient.Count > 0)
                return new HoldOutcome.Rejected(StockRefusals.InsufficientStock, insufficient);

            var quantities = skus.Select(s => wanted[s]).ToArray();
            await using (var hold = Command(connection, transaction, """
                             UPDATE inventory.items i SET held = i.held + l.quantity, updated_at = now()
                               FROM unnest($1::text[], $2::integer[]) AS l(sku, quantity)
                              WHERE i.sku = l.sku
                             """, skus, quantities))
            {
                await hold.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var record = Command(connection, transaction, $"""
                INSERT INTO inventory.stock_holds (order_id, sku, quantity, status, expires_at, created_at, updated_at)
                SELECT $3, l.sku, l.quantity, '{Active}', now() + $4, now(), now()
                  FROM unnest($1::text[], $2::integer[]) AS l(sku, quantity)
                RETURNING expires_at
                """, skus, quantities, orderId, holdFor);
            var expiresAt = (DateTime)(await record.ExecuteScalarAsync(cancellationToken))!;
            return new HoldOutcome.Held(new DateTimeOffset(expiresAt, TimeSpan.Zero));
        }, cancellationToken);

    /// <summary>
    /// Keeps the order's active holds until at least <paramref name="until"/> (the QR's deadline plus grace and
    /// margin, once the provider has stated it). Holds already committed, released or expired are left alone.
    /// </summary>
    public Task<int> ExtendAsync(Guid orderId, DateTimeOffset until, CancellationToken cancellationToken = default) =>
        InTransaction(async (connection, transaction) =>
        {
            await using var extend = Command(connection, transaction, $"""
                UPDATE inventory.stock_holds
                   SET expires_at = $2, overdue_reported_at = NULL, updated_at = now()
                 WHERE order_id = $1 AND status = '{Active}' AND expires_at < $2
                """, orderId, until);
            return await extend.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Turns the order's holds into a sale: only when every hold is still Active. An Active hold past its expiry
    /// still counts: the sweep never takes a live order's stock (it tells the saga instead), so a hold that is
    /// still Active is one the saga kept for a payment it was waiting to hear about. Committing twice is harmless
    /// (already committed → committed).
    /// </summary>
    public Task<CommitOutcome> CommitAsync(Guid orderId, CancellationToken cancellationToken = default) =>
        InTransaction<CommitOutcome>(async (connection, transaction) =>
        {
            await LockItemsOf(connection, transaction, orderId, cancellationToken);
            int total, active, committed;
            await using (var count = Command(connection, transaction, $"""
                             SELECT count(*)::int,
                                    count(*) FILTER (WHERE status = '{Active}')::int,
                                    count(*) FILTER (WHERE status = '{Committed}')::int
                               FROM inventory.stock_holds WHERE order_id = $1
                             """, orderId))
            await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                (total, active, committed) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
            }

            if (total > 0 && committed == total)
                return new CommitOutcome.Committed();
            if (total == 0)
                return new CommitOutcome.Refused(StockRefusals.HoldMissing);
            if (active != total)
                return new CommitOutcome.Refused(StockRefusals.HoldExpired);

            await using (var commit = Command(connection, transaction, $"""
                             WITH moved AS (
                                 UPDATE inventory.stock_holds SET status = '{Committed}', updated_at = now()
                                  WHERE order_id = $1 AND status = '{Active}'
                              RETURNING sku, quantity)
                             UPDATE inventory.items i
                                SET on_hand = i.on_hand - m.quantity, held = i.held - m.quantity, updated_at = now()
                               FROM moved m WHERE i.sku = m.sku
                             """, orderId))
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
            await using var release = Command(connection, transaction, $"""
                WITH moved AS (
                    UPDATE inventory.stock_holds
                       SET status = CASE status WHEN '{Active}' THEN '{Released}' ELSE '{Returned}' END, updated_at = now()
                     WHERE order_id = $1 AND status IN ('{Active}', '{Committed}')
                 RETURNING sku, quantity, status)
                UPDATE inventory.items i
                   SET held    = i.held    - CASE WHEN m.status = '{Released}' THEN m.quantity ELSE 0 END,
                       on_hand = i.on_hand + CASE WHEN m.status = '{Returned}' THEN m.quantity ELSE 0 END,
                       updated_at = now()
                  FROM moved m WHERE i.sku = m.sku
                """, orderId);
            return await release.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// The sweep, one batch of at most <paramref name="batchSize"/> orders with Active holds past their expiry. An
    /// order that has ended (or has no saga) gets its stock back here. A live order's stock is left alone and
    /// returned in <see cref="OverdueHolds.Live"/>, once: its saga decides, withdrawing the QR code first, so a
    /// customer paying at that moment still gets the order. Item rows are locked before hold rows, as everywhere.
    /// </summary>
    public Task<OverdueHolds> SweepOverdueAsync(int batchSize, CancellationToken cancellationToken = default) =>
        InTransaction(async (connection, transaction) =>
        {
            var candidates = new List<(Guid OrderId, DateTimeOffset ExpiredAt, bool Ended)>();
            await using (var pick = Command(connection, transaction, $"""
                             SELECT h.order_id, min(h.expires_at),
                                    bool_or(s.order_id IS NULL OR s.current_state = ANY($2))
                               FROM inventory.stock_holds h
                               LEFT JOIN ordering.order_state s ON s.order_id = h.order_id
                              WHERE h.status = '{Active}' AND h.expires_at <= now()
                                AND (h.overdue_reported_at IS NULL OR s.order_id IS NULL OR s.current_state = ANY($2))
                              GROUP BY h.order_id
                              ORDER BY min(h.expires_at)
                              LIMIT $1
                             """, batchSize, EndedStates))
            await using (var reader = await pick.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                    candidates.Add((reader.GetGuid(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), reader.GetBoolean(2)));
            }

            var released = new List<Guid>();
            var live = new List<(Guid OrderId, DateTimeOffset ExpiredAt)>();
            foreach (var (orderId, expiredAt, ended) in candidates)
            {
                if (ended)
                {
                    await LockItemsOf(connection, transaction, orderId, cancellationToken);
                    await using var expire = Command(connection, transaction, $"""
                        WITH moved AS (
                            UPDATE inventory.stock_holds SET status = '{Expired}', updated_at = now()
                             WHERE order_id = $1 AND status = '{Active}' AND expires_at <= now()
                         RETURNING sku, quantity)
                        UPDATE inventory.items i SET held = i.held - m.quantity, updated_at = now()
                          FROM moved m WHERE i.sku = m.sku
                        """, orderId);
                    if (await expire.ExecuteNonQueryAsync(cancellationToken) > 0)
                        released.Add(orderId);
                }
                else
                {
                    // Hold rows only, no item locks wanted after them: no lock-order cycle with commit or release.
                    await using var report = Command(connection, transaction, $"""
                        UPDATE inventory.stock_holds SET overdue_reported_at = now()
                         WHERE order_id = $1 AND status = '{Active}' AND expires_at <= now() AND overdue_reported_at IS NULL
                        """, orderId);
                    if (await report.ExecuteNonQueryAsync(cancellationToken) > 0)
                        live.Add((orderId, expiredAt));
                }
            }

            return new OverdueHolds(released, live, candidates.Count);
        }, cancellationToken);

    /// <summary>Order states whose Active holds nobody else will give back: the sweep does.</summary>
    static readonly string[] EndedStates = OrderStatuses.Final.ToArray();

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
