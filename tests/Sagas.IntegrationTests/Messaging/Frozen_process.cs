using MassTransit;
using Sagas.Messaging.CrashHost;
using CrashHost = Sagas.IntegrationTests.Messaging.Crash_recovery.CrashHost;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// A consumer process frozen with SIGSTOP inside its consume transaction (effect written, inbox entry locked) for
/// longer than the bounds on a silent process: PostgreSQL's <c>idle_in_transaction_session_timeout</c> ends its
/// transaction, RabbitMQ's heartbeat closes its connection and hands the message to a second instance, which
/// completes it while the first one is still frozen. Resumed, the first one does nothing twice. The bounds are the
/// services' mechanism (PostgresSessionLimits, RabbitMqOptions.Heartbeat) scaled down from 60 s to seconds.
/// </summary>
public sealed class Frozen_process(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    static readonly Dictionary<string, string> ScaledBounds = new()
    {
        ["SAGAS_CRASH_IDLE_IN_TRANSACTION_TIMEOUT"] = "00:00:03",
        ["SAGAS_CRASH_HEARTBEAT"] = "00:00:02",
    };

    // Well above both bounds, well below the 30 s a lock wait of the second instance may last before its consume fails.
    static readonly TimeSpan TakeOverWithin = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task A_message_whose_consumer_froze_inside_its_transaction_is_completed_by_another_instance_once()
    {
        var run = $"run-{NewId.NextGuid()}";
        var messageId = NewId.NextGuid();
        var reference = $"{run}/0";

        using var frozen = CrashHost.Start(infrastructure, "run", run, killAt: "stop-in-consume:0", environment: ScaledBounds);
        await frozen.WaitForLine("READY");
        await PublishDirectly(new CrashHostMessage(run, 0), messageId);
        await frozen.WaitUntilStopped();

        using var other = CrashHost.Start(infrastructure, "run", run, environment: ScaledBounds);
        await other.WaitForLine("READY");

        // The frozen process's uncommitted effect and inbox lock are gone, and the message it held reached the other one.
        await Eventually.Until(() => EffectsOf(reference), n => n > 0, TakeOverWithin,
            because: "another instance consumed the message while the first one was frozen");
        Assert.True(frozen.IsStopped, "the first instance was still frozen when the message was completed");
        Assert.Equal(1, await EffectsOf(reference));

        // Resumed, the first instance's attempt ends without an effect and without a fault: its next statement meets the
        // transaction the server ended (25P03), or — when the resumed process notices first that the broker dropped its
        // connection and took the delivery back — the attempt is canceled before it reaches the server. Which comes first
        // is a race of the resumed process's own threads; both leave nothing committed.
        frozen.Continue();
        var ended = await Eventually.Until(() => Task.FromResult(frozen.Output), output => output.Contains("ATTEMPT-ENDED"),
            TimeSpan.FromSeconds(60), because: "the resumed instance's attempt ended");
        var outcome = ended[ended.IndexOf("ATTEMPT-ENDED", StringComparison.Ordinal)..].Split('\n')[0];
        Assert.True(outcome.Contains("25P03") || outcome.Contains("Canceled"), $"the resumed attempt ended otherwise: {outcome}");
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.False(frozen.IsStopped);
        Assert.Equal(1, await EffectsOf(reference));
        Assert.Empty(await infrastructure.VirtualHost.ErrorQueueMessagesAsync());
    }

    [Fact]
    public async Task A_consumer_resumed_after_the_server_ended_its_transaction_consumes_the_message_again_once()
    {
        var run = $"run-{NewId.NextGuid()}";
        var reference = $"{run}/0";

        // The broker's default heartbeat (60 s) outlasts the freeze: the delivery is still this process's when it resumes.
        using var frozen = CrashHost.Start(infrastructure, "run", run, killAt: "stop-in-consume:0",
            environment: new Dictionary<string, string> { ["SAGAS_CRASH_IDLE_IN_TRANSACTION_TIMEOUT"] = "00:00:02" });
        await frozen.WaitForLine("READY");
        await PublishDirectly(new CrashHostMessage(run, 0), NewId.NextGuid());
        await frozen.WaitUntilStopped();

        // Its effect was written in the transaction the server ends after 2 s idle: nothing of it is left.
        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"),
            n => n == 0, TimeSpan.FromSeconds(20), because: "the server ended the frozen process's transaction");
        Assert.Equal(0, await EffectsOf(reference));

        // Resumed, its attempt fails on the ended session and the inbox's retry consumes the message in a new transaction.
        frozen.Continue();
        await Eventually.Until(() => EffectsOf(reference), n => n > 0, TimeSpan.FromSeconds(30),
            because: "the resumed process consumed the message again");
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal(1, await EffectsOf(reference));
        Assert.Empty(await infrastructure.VirtualHost.ErrorQueueMessagesAsync());
    }

    Task<long> EffectsOf(string reference) => infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", reference);

    async Task PublishDirectly(CrashHostMessage message, Guid messageId)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(infrastructure.ConfigureRabbitMq);
        await bus.StartAsync();
        try
        {
            await bus.Publish(message, context => context.MessageId = messageId);
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
