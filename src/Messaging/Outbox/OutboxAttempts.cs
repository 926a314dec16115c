using Microsoft.EntityFrameworkCore;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// A failure counted against an outbox, as recorded: parked, or due again at <see cref="NextAttemptAt"/>. Read with
/// SqlQuery, so its columns are named by the context's snake_case convention (outbox_id, next_attempt_at, ...).
/// </summary>
sealed record RecordedAttempt(Guid OutboxId, int Attempts, DateTime NextAttemptAt, bool Parked);

static class OutboxAttempts
{
    /// <summary>
    /// In the claim transaction (the rows are locked by it): counts an attempt against each failed outbox, makes it due
    /// again after its own exponential delay (database clock), and parks it at <see cref="BusOutboxOptions.MaxAttempts"/>.
    /// </summary>
    public static Task<List<RecordedAttempt>> RecordAsync(DbContext dbContext, IReadOnlyList<OutboxSendFailure> failures, BusOutboxOptions options,
        CancellationToken cancellationToken)
    {
        var ids = failures.Select(x => x.OutboxId).ToArray();
        var errors = failures.Select(x => x.Describe()).ToArray();
        var first = options.RetryDelay.TotalSeconds;
        var max = options.MaxRetryDelay.TotalSeconds;
        var maxAttempts = Math.Max(1, options.MaxAttempts);
        // The exponent is capped so that a large MaxAttempts cannot overflow the double before least() applies.
        return dbContext.Database.SqlQuery<RecordedAttempt>($"""
            UPDATE messaging.outbox_state s
            SET attempts = s.attempts + 1,
                last_error = f.error,
                next_attempt_at = clock_timestamp() + make_interval(secs => least({max}, {first} * power(2, least(s.attempts, 30)))),
                parked_at = CASE WHEN s.attempts + 1 >= {maxAttempts} THEN clock_timestamp() END
            FROM unnest({ids}, {errors}) AS f(outbox_id, error)
            WHERE s.outbox_id = f.outbox_id
            RETURNING s.outbox_id, s.attempts, s.next_attempt_at, s.parked_at IS NOT NULL AS parked
            """).ToListAsync(cancellationToken);
    }
}
