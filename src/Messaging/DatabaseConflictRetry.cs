using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Sagas.Messaging;

/// <summary>
/// Retries a message whose transaction lost a race in PostgreSQL: unique violation (23505, two first events creating
/// the same saga), serialization failure (40001), deadlock (40P01) or an EF concurrency conflict. Installed at the
/// receive endpoint, in front of the inbox, so every attempt gets a new DI scope, DbContext and transaction.
/// Other exceptions are left to the application's own retry policy.
/// </summary>
public static class DatabaseConflictRetry
{
    const string UniqueViolation = PostgresErrorCodes.UniqueViolation;

    static readonly HashSet<string> RetriedStates =
        [UniqueViolation, PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected];

    public static bool IsConflict(Exception exception) =>
        exception is DbUpdateConcurrencyException || SqlState(exception) is { } state && RetriedStates.Contains(state);

    public static bool IsUniqueViolation(Exception exception) => SqlState(exception) == UniqueViolation;

    /// <summary>Retries conflicts with jittered backoff (5 ms → 1 s), up to <paramref name="retryLimit"/> times.</summary>
    public static void UseDatabaseConflictRetry(this IConsumePipeConfigurator configurator, int retryLimit = 10) =>
        configurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(IsConflict);
            retry.Exponential(retryLimit, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(25));
        });

    static string? SqlState(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is PostgresException postgres)
                return postgres.SqlState;
        }

        return null;
    }
}
