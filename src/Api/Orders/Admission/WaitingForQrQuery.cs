using Npgsql;
using Sagas.Data.Ordering;

namespace Sagas.Api.Orders.Admission;

/// <summary>
/// Counts, in one statement (one snapshot), the accepted orders still waiting for their QR code among those accepted
/// since an anchor, and how many of those since the previous anchor no longer wait. Waiting means: accepted (a row in
/// <c>api.idempotency_keys</c>) and either not yet taken by a worker (no saga row: its <c>SubmitOrder</c> is in the
/// outbox or the queue) or taken without a QR code so far (<c>Submitted</c>, or <c>AwaitingPayment</c> without a
/// provider reference). The saga row carries the key's <c>created_at</c> (<c>SubmitOrder.SubmittedAt</c>), so "not yet
/// taken" is a difference of two counts over the same range. Every count is an index range: keys and saga rows by
/// <c>created_at</c> since the anchor, the waiting ones through the partial index <c>order_state_waiting_for_qr</c>.
/// </summary>
public sealed class WaitingForQrQuery(NpgsqlDataSource database)
{
    // The states are in the text, as the partial index's predicate names them (0009_admission.sql).
    const string Sql = $"""
        SELECT (SELECT count(*) FROM api.idempotency_keys WHERE created_at >= $2),
               taken.since_previous, taken.since_anchor, waiting.since_previous, waiting.since_anchor
          FROM (SELECT count(*) AS since_previous, count(*) FILTER (WHERE created_at >= $2) AS since_anchor
                  FROM ordering.order_state
                 WHERE created_at >= $1) AS taken,
               (SELECT count(*) AS since_previous, count(*) FILTER (WHERE created_at >= $2) AS since_anchor
                  FROM ordering.order_state
                 WHERE current_state IN ('{OrderStatuses.Submitted}', '{OrderStatuses.AwaitingPayment}') AND provider_reference IS NULL
                   AND created_at >= $1) AS waiting
        """;

    /// <param name="previousAnchor">The anchor of the previous reading (at or before <paramref name="anchor"/>).</param>
    public async Task<WaitingForQr> ReadAsync(DateTimeOffset previousAnchor, DateTimeOffset anchor, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter { Value = previousAnchor });
        command.Parameters.Add(new NpgsqlParameter { Value = anchor });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new WaitingForQr(anchor, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }
}

/// <summary>One reading of <see cref="WaitingForQrQuery"/>.</summary>
public sealed record WaitingForQr(
    DateTimeOffset Anchor,
    long Accepted,
    long TakenSincePrevious,
    long TakenSinceAnchor,
    long WaitingSincePrevious,
    long WaitingSinceAnchor)
{
    /// <summary>Accepted since the anchor and without a QR code: not yet taken by a worker, or taken and still waiting.</summary>
    public long Backlog => Math.Max(0, Accepted - TakenSinceAnchor) + WaitingSinceAnchor;

    /// <summary>Orders since the previous anchor that no longer wait (QR code shown, or ended without one).</summary>
    public long DoneSincePrevious => TakenSincePrevious - WaitingSincePrevious;

    public long DoneSinceAnchor => TakenSinceAnchor - WaitingSinceAnchor;

    /// <summary>
    /// How many orders left the backlog since <paramref name="previous"/>: the orders that are done only grow, so
    /// counting them from the same anchor twice gives the difference exactly (orders older than the anchor aside).
    /// </summary>
    public long LeftSince(WaitingForQr? previous) =>
        previous is null ? 0 : Math.Max(0, DoneSincePrevious - previous.DoneSinceAnchor);
}
