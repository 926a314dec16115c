using Microsoft.EntityFrameworkCore;
using Npgsql;
using Sagas.Messaging.Postgres;

namespace Sagas.UnitTests.Messaging;

/// <summary>
/// The one reading of PostgreSQL failures (<see cref="PostgresErrors"/>) that the inbox's retry, the Api's 503 and the
/// saga repository decide by. The saga's own retry (<see cref="PostgresErrors.IsTransient"/>) is specified in
/// Ordering/Configuration.cs, <c>Retrying_a_saga_message</c>.
/// </summary>
public sealed class Classifying_postgres_errors
{
    static PostgresException Server(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    [Theory]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    [InlineData(PostgresErrors.IdleInTransactionSessionTimeout)]
    public void Should_call_a_transaction_that_lost_a_race_a_lost_race(string sqlState)
    {
        Assert.True(PostgresErrors.IsLostRace(Server(sqlState)));
        // As EF Core reports it from SaveChanges.
        Assert.True(PostgresErrors.IsLostRace(new DbUpdateException("save failed", Server(sqlState))));
    }

    [Fact]
    public void Should_call_an_ef_concurrency_conflict_a_lost_race_and_nothing_else()
    {
        Assert.True(PostgresErrors.IsLostRace(new DbUpdateConcurrencyException("changed meanwhile")));
        Assert.False(PostgresErrors.IsLostRace(Server(PostgresErrorCodes.CheckViolation)));
        Assert.False(PostgresErrors.IsLostRace(Server(PostgresErrorCodes.AdminShutdown)));
        Assert.False(PostgresErrors.IsLostRace(new TimeoutException()));
    }

    [Fact]
    public void Should_tell_a_unique_violation_anywhere_in_the_chain()
    {
        Assert.True(PostgresErrors.IsUniqueViolation(new DbUpdateException("save failed", Server(PostgresErrorCodes.UniqueViolation))));
        Assert.False(PostgresErrors.IsUniqueViolation(Server(PostgresErrorCodes.SerializationFailure)));
        Assert.Null(PostgresErrors.SqlState(new InvalidOperationException()));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)]
    [InlineData(PostgresErrorCodes.InvalidCatalogName)]
    public void Should_call_a_server_that_cannot_serve_us_now_unavailable(string sqlState) =>
        Assert.True(PostgresErrors.IsUnavailable(Server(sqlState)));

    [Fact]
    public void Should_call_no_answer_at_all_unavailable_but_not_a_refused_statement()
    {
        Assert.True(PostgresErrors.IsUnavailable(new NpgsqlException("Failed to connect")));
        Assert.False(PostgresErrors.IsUnavailable(Server(PostgresErrorCodes.UniqueViolation)));
        Assert.False(PostgresErrors.IsUnavailable(Server(PostgresErrorCodes.InsufficientPrivilege)));
    }
}
