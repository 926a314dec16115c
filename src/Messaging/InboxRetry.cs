using MassTransit;
using Sagas.Messaging.Postgres;

namespace Sagas.Messaging;

/// <summary>
/// The retry installed at the receive endpoint, in front of the inbox, so that every attempt gets a new DI scope,
/// DbContext and transaction. It retries what is transient by nature and would otherwise strand a message
/// (<see cref="PostgresErrors.IsLostRace"/>):
/// <list type="bullet">
/// <item>a transaction that lost a race in PostgreSQL: unique violation (23505), serialization failure (40001),
/// deadlock (40P01), or an EF concurrency conflict;</item>
/// <item>a transaction the server ended because it sat idle longer than <c>idle_in_transaction_session_timeout</c>
/// (25P03, see <see cref="PostgresSessionLimits"/>): this process was frozen or cut off mid-consume and
/// everything it wrote was rolled back; the next attempt reads the inbox again, and finds the message consumed when
/// another instance took it over meanwhile.</item>
/// </list>
/// Sending what a consumer produced is never retried here: it is committed as a bus outbox, which the delivery service
/// sends, and retries, on its own. Other exceptions are left to the application's own retry policy.
/// </summary>
public static class InboxRetry
{
    /// <summary>
    /// Retries with jittered backoff (5 ms → 15 s), up to <paramref name="retryLimit"/> times: races resolve in
    /// the first few milliseconds, while a row contended by a burst gets about a minute in all before the message is
    /// faulted (and its order would stop moving).
    /// </summary>
    public static void UseInboxRetry(this IConsumePipeConfigurator configurator, int retryLimit = 12) =>
        configurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(PostgresErrors.IsLostRace);
            retry.Exponential(retryLimit, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(25));
        });
}
