using System.Text;
using Npgsql;
using Sagas.Api.Orders;
using Sagas.Data;
using Sagas.Data.Ordering;
using static Sagas.Api.Support.SupportEndpoints;

namespace Sagas.Api.Support;

/// <summary>
/// The support desk's lists and figures, one method per question, each its SQL (src/Data/README.md, "Reaching the
/// database"). Plain reads, no row locks, so they never slow the workers down; on the standby when one is configured
/// (<see cref="ReadOnlyDatabase"/>), so they take nothing from the primary either. A timeline the standby misses (an order
/// accepted a moment ago) is read from the primary.
/// </summary>
public sealed class SupportQueries(ReadOnlyDatabase readOnly)
{
    NpgsqlDataSource db => readOnly.DataSource;

    /// <summary>What the order search filters by; a null or empty field does not filter.</summary>
    public sealed record OrderFilter(string Status, string CustomerId, DateTimeOffset? CreatedFrom, DateTimeOffset? CreatedTo);

    /// <summary>
    /// Up to <paramref name="take"/> orders matching the filter, newest first, after the (created, order id) cursor: live
    /// and archived ones alike. Each side takes its newest matches by its own index, and the two short lists are merged.
    /// </summary>
    public async Task<List<OrderSummary>> SearchAsync(OrderFilter filter, (DateTimeOffset CreatedAt, Guid OrderId)? after, int take,
        CancellationToken cancellationToken)
    {
        var where = new StringBuilder("true");
        var parameters = new List<object>();
        string Next(object value)
        {
            parameters.Add(value);
            return "$" + parameters.Count;
        }

        if (filter.Status.Length > 0)
            where.Append($" AND coalesce(s.current_state, 'Submitted') = {Next(filter.Status)}");
        if (filter.CustomerId.Length > 0)
            where.Append($" AND k.customer_id = {Next(filter.CustomerId)}");
        if (filter.CreatedFrom is { } from)
            where.Append($" AND k.created_at >= {Next(from)}");
        if (filter.CreatedTo is { } to)
            where.Append($" AND k.created_at < {Next(to)}");
        if (after is { } cursor)
            where.Append($" AND (k.created_at, k.order_id) < ({Next(cursor.CreatedAt)}, {Next(cursor.OrderId)})");
        var limit = Next(take);
        // Columns 8 and 1 of OrderReader.Columns: k.created_at, k.order_id.
        var sql = $"""
            (SELECT {OrderReader.Columns} FROM {OrderReader.From} WHERE {where} ORDER BY k.created_at DESC, k.order_id DESC LIMIT {limit})
            UNION ALL
            (SELECT {OrderReader.Columns} FROM {OrderReader.ArchiveFrom} WHERE {where} ORDER BY k.created_at DESC, k.order_id DESC LIMIT {limit})
            ORDER BY 8 DESC, 1 DESC LIMIT {limit}
            """;

        await using var command = db.CreateCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return await SummariesAsync(command, cancellationToken);
    }

    /// <summary>Up to <paramref name="take"/> orders that need a person, oldest flag first, after the (since, order id) cursor.</summary>
    public async Task<List<OrderSummary>> NeedingAttentionAsync((DateTimeOffset Since, Guid OrderId)? after, int take,
        CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT {OrderReader.Columns} FROM {OrderReader.From}
             WHERE s.attention_reason IS NOT NULL
               AND ($1::timestamptz IS NULL OR (s.attention_since, s.order_id) > ($1, $2))
             ORDER BY s.attention_since, s.order_id
             LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)after?.Since ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after?.OrderId ?? Guid.Empty });
        command.Parameters.Add(new NpgsqlParameter { Value = take });
        return await SummariesAsync(command, cancellationToken);
    }

    /// <summary>An order's timeline, oldest first; null when no such order was accepted. An archived order's only when the live tables miss.</summary>
    public async Task<List<TimelineEntry>?> TimelineAsync(Guid orderId, CancellationToken cancellationToken) =>
        await TimelineOnAsync(db, orderId, cancellationToken)
        ?? (readOnly.IsStandby ? await TimelineOnAsync(readOnly.Primary, orderId, cancellationToken) : null);

    static async Task<List<TimelineEntry>?> TimelineOnAsync(NpgsqlDataSource server, Guid orderId, CancellationToken cancellationToken) =>
        await TimelineInAsync(server, "api", "ordering", orderId, cancellationToken)
        ?? await TimelineInAsync(server, "archive", "archive", orderId, cancellationToken);

    static async Task<List<TimelineEntry>?> TimelineInAsync(NpgsqlDataSource server, string keys, string timeline, Guid orderId,
        CancellationToken cancellationToken)
    {
        await using var command = server.CreateCommand($"""
            SELECT t.at, t.event, t.from_state, t.to_state, t.detail, k.order_id IS NOT NULL
              FROM {keys}.idempotency_keys k
              LEFT JOIN {timeline}.order_timeline t ON t.order_id = k.order_id
             WHERE k.order_id = $1
             ORDER BY t.id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = orderId });
        var entries = new List<TimelineEntry>();
        var known = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known = true;
            if (!reader.IsDBNull(0))
                entries.Add(new TimelineEntry(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return known ? entries : null;
    }

    /// <summary>
    /// Orders by status (every status, 0 when none), and how many unfinished ones were last updated before
    /// <paramref name="stuckBefore"/>. Orders not archived only: archived ones are final, and counting them would make every
    /// refresh a scan of all orders ever taken.
    /// </summary>
    public async Task<(Dictionary<string, long> ByStatus, long Stuck)> CountsAsync(DateTimeOffset stuckBefore, CancellationToken cancellationToken)
    {
        var byStatus = OrderStatuses.All.ToDictionary(s => s, _ => 0L);
        long stuck = 0;
        await using var command = db.CreateCommand($"""
            SELECT coalesce(s.current_state, 'Submitted') AS status, count(*),
                   count(*) FILTER (WHERE coalesce(s.updated_at, k.created_at) < $1)
              FROM {OrderReader.From}
             GROUP BY 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = stuckBefore });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var status = reader.GetString(0);
            byStatus[status] = reader.GetInt64(1);
            if (!OrderStatuses.IsFinal(status))
                stuck += reader.GetInt64(2);
        }

        return (byStatus, stuck);
    }

    static async Task<List<OrderSummary>> SummariesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var items = new List<OrderSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            items.Add(OrderReader.ReadSummary(reader));
        return items;
    }

    /// <summary>Mismatches in the latest scheduled reconciliation report; null before the first.</summary>
    public async Task<int?> LatestScheduledMismatchesAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT mismatch_count FROM payments.reconciliation_reports WHERE scheduled ORDER BY checked_at DESC LIMIT 1");
        return await command.ExecuteScalarAsync(cancellationToken) as int?;
    }
}
