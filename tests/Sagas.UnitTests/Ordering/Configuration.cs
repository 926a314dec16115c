using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sagas.Data.Ordering;
using Sagas.Messaging.Postgres;
using Sagas.Workers.Ordering;

namespace Sagas.UnitTests.Ordering;

public sealed class Saga_timings
{
    static SagaTimings Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddSagaTimings(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SagaTimings>>().Value;
    }

    [Fact]
    public void Should_default_to_the_designed_timings()
    {
        var timings = Bind([]);

        Assert.Equal(TimeSpan.FromMinutes(2), timings.PaymentWindow);
        Assert.Equal(TimeSpan.FromSeconds(5), timings.PollInterval);
        // The listing is read five times per promised period, so a busy tick's reports still reach the saga within it.
        Assert.Equal(TimeSpan.FromSeconds(1), timings.ListingPeriod);
        Assert.Equal(TimeSpan.FromMinutes(10), timings.StuckAfter);
        Assert.Equal(TimeSpan.FromSeconds(30), timings.PaymentGrace);
        // Held for the window, then past the deadline by the grace and a minute to place the order.
        Assert.Equal(TimeSpan.FromMinutes(3.5), timings.HoldFor);
        Assert.Equal(TimeSpan.FromMinutes(1.5), timings.HoldAfterDeadline);
        Assert.Equal(3, timings.AttentionAfter);
    }

    [Fact]
    public void Should_be_shortened_through_configuration()
    {
        var timings = Bind(new() { ["Saga:PaymentWindow"] = "00:00:10", ["Saga:PollInterval"] = "00:00:01" });

        Assert.Equal(TimeSpan.FromSeconds(10), timings.PaymentWindow);
        Assert.Equal(TimeSpan.FromSeconds(1), timings.PollInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(200), timings.ListingPeriod);
        Assert.Equal(TimeSpan.FromSeconds(100), timings.HoldFor);
    }

    [Fact]
    public void Should_read_the_listing_at_the_tick_asked_for_if_it_is_within_the_poll_period()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Bind(new() { ["Saga:PollTick"] = "00:00:02" }).ListingPeriod);
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Saga:PollTick"] = "00:00:06" }));
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Saga:PollTick"] = "00:00:00" }));
    }

    [Fact]
    public void Should_ask_again_for_pending_work_with_a_doubling_delay_up_to_the_maximum()
    {
        var timings = Bind(new() { ["Saga:PendingWorkRetry"] = "00:01:00", ["Saga:PendingWorkRetryMax"] = "00:10:00" });

        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(0, 6).Select(a => timings.PendingWorkDelay(a).TotalMinutes));
        Assert.Equal(TimeSpan.FromMinutes(10), timings.PendingWorkDelay(int.MaxValue));
    }

    [Fact]
    public void Should_refuse_a_duration_that_is_not_positive()
    {
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Saga:PollInterval"] = "00:00:00" }));
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Saga:PaymentGrace"] = "-00:00:01" }));
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Saga:AttentionAfter"] = "0" }));
    }
}

public sealed class Order_states
{
    [Fact]
    public void Should_be_the_statuses_the_api_reports()
    {
        var machine = new OrderStateMachine(Options.Create(new SagaTimings()), TimeProvider.System, NullLogger<OrderStateMachine>.Instance);

        var states = machine.States.Select(s => s.Name).Except(["Initial", "Final"]);

        Assert.Equal(OrderStatuses.All.Order(), states.Order());
    }
}

public sealed class Retrying_a_saga_message
{
    [Fact]
    public void Should_retry_races_and_lost_connections()
    {
        Assert.True(PostgresErrors.IsTransient(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));
        Assert.True(PostgresErrors.IsTransient(new PostgresException("could not serialize", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure)));
        Assert.True(PostgresErrors.IsTransient(new PostgresException("deadlock", "ERROR", "ERROR", PostgresErrorCodes.DeadlockDetected)));
        Assert.True(PostgresErrors.IsTransient(new Microsoft.EntityFrameworkCore.DbUpdateException("save failed",
            new PostgresException("could not serialize", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure))));
        Assert.True(PostgresErrors.IsTransient(new TimeoutException()));
        Assert.True(PostgresErrors.IsTransient(ThrownByNpgsql()));
    }

    /// <summary>An ObjectDisposedException raised from inside Npgsql: a command on a connection that is gone.</summary>
    static Exception ThrownByNpgsql()
    {
        var connection = new NpgsqlConnection("Host=127.0.0.1");
        connection.Dispose();
        try
        {
            connection.BeginTransaction();
        }
        catch (Exception e)
        {
            return e;
        }

        throw new InvalidOperationException("a disposed connection accepted a command");
    }

    [Fact]
    public void Should_not_retry_bugs_or_bad_data()
    {
        Assert.False(PostgresErrors.IsTransient(new InvalidOperationException()));
        Assert.False(PostgresErrors.IsTransient(new PostgresException("check violated", "ERROR", "ERROR", PostgresErrorCodes.CheckViolation)));
        Assert.False(PostgresErrors.IsTransient(new NullReferenceException()));
        // Disposed or cancelled elsewhere than in Npgsql: not a lost connection.
        Assert.False(PostgresErrors.IsTransient(new ObjectDisposedException("x")));
        Assert.False(PostgresErrors.IsTransient(new OperationCanceledException()));
    }
}
