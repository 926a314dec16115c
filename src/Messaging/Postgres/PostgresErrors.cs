using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Sagas.Messaging.Postgres;

/// <summary>
/// The one reading of what a PostgreSQL failure means, for every place that decides by it: the inbox's retry (a lost
/// race), the saga's retry (a transient failure), the saga repository (a racing first insert) and the Api's 503 (the
/// database cannot serve us now). Each looks at the first <see cref="PostgresException"/> in the exception's chain
/// (EF Core wraps it in a <see cref="DbUpdateException"/>) unless it says otherwise.
/// </summary>
public static class PostgresErrors
{
    /// <summary>25P03, which Npgsql's <c>PostgresErrorCodes</c> does not name: the server ended a session idle in a transaction.</summary>
    public const string IdleInTransactionSessionTimeout = "25P03";

    static readonly HashSet<string> LostRaceStates =
        [
            PostgresErrorCodes.UniqueViolation, PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected,
            IdleInTransactionSessionTimeout,
        ];

    /// <summary>The SQLSTATE of the first <see cref="PostgresException"/> in the chain; null when the server said nothing.</summary>
    public static string? SqlState(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is PostgresException postgres)
                return postgres.SqlState;
        }

        return null;
    }

    public static bool IsUniqueViolation(Exception exception) => SqlState(exception) == PostgresErrorCodes.UniqueViolation;

    /// <summary>
    /// The transaction lost a race and a new one may win: unique violation (23505), serialization failure (40001),
    /// deadlock (40P01), an EF concurrency conflict, or the server ended the session idle in its transaction (25P03: this
    /// process was frozen or cut off, and everything it wrote was rolled back).
    /// </summary>
    public static bool IsLostRace(Exception exception) =>
        exception is DbUpdateConcurrencyException || SqlState(exception) is { } state && LostRaceStates.Contains(state);

    /// <summary>
    /// The server is going away or refusing connections while it restarts: connection exceptions (08xxx), operator
    /// intervention — shutdown, crash shutdown, cannot connect now (57P0x).
    /// </summary>
    public static bool IsServerGoingAway(PostgresException exception) =>
        exception.SqlState.StartsWith("08", StringComparison.Ordinal) || exception.SqlState.StartsWith("57P", StringComparison.Ordinal);

    /// <summary>
    /// The database cannot serve us now and nothing was committed: no server answer at all (unreachable, timed out),
    /// <see cref="IsServerGoingAway"/>, or the database does not exist (3D000). A caller may retry later.
    /// </summary>
    public static bool IsUnavailable(NpgsqlException exception) =>
        exception is not PostgresException postgres
        || IsServerGoingAway(postgres)
        || postgres.SqlState == PostgresErrorCodes.InvalidCatalogName;

    /// <summary>
    /// Worth trying a message again for, anywhere in the chain: a racing first insert (unique violation), what Npgsql
    /// calls transient (serialization failures, deadlocks, lack of resources, …), a lost or timed-out connection, an EF
    /// concurrency conflict. Anything else is a bug or bad data, and retrying it only delays the fault.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }:
                case PostgresException postgres when IsServerGoingAway(postgres):
                case NpgsqlException { IsTransient: true }:
                case NpgsqlException and not PostgresException:
                case DbUpdateConcurrencyException:
                case TimeoutException:
                // Npgsql tearing a connection down under a running command (PostgreSQL restarting) surfaces as a
                // disposed object or a cancelled wait inside Npgsql itself (seen in the bench's PostgreSQL restart).
                case ObjectDisposedException or OperationCanceledException when ThrownInsideNpgsql(e):
                    return true;
            }
        }

        return false;
    }

    static bool ThrownInsideNpgsql(Exception exception) =>
        new System.Diagnostics.StackTrace(exception, false).GetFrames()
            .Any(f => f.GetMethod()?.DeclaringType?.Assembly == typeof(NpgsqlConnection).Assembly);
}
