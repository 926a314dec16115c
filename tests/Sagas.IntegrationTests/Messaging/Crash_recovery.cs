using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using MassTransit;
using Sagas.Messaging.CrashHost;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// A process running as Api and Workers do (bus outbox with its delivery service, a consumer behind the inbox; see
/// tests/Sagas.Messaging.CrashHost) is killed with SIGKILL where a crash could lose a message or repeat an effect, and
/// restarted: every message then takes effect exactly once. The probe has no inbox, so it shows what the broker carried,
/// duplicates included; the consumer's effect is a row in test.ledger per consumption.
/// </summary>
public sealed class Crash_recovery(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    const int Count = 20;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Messages_committed_before_a_kill_are_delivered_once_after_restart()
    {
        var run = NewRun();
        await using var probe = await StartProbe();

        // Killed when its delivery service was about to send the first of the twenty committed messages.
        await PublishAndKillAt(run, "before-send:1");
        Assert.Empty(Arrivals(probe, run));

        using var restarted = CrashHost.Start(infrastructure, "run", run);
        await EachTookEffectOnce(probe, run);

        // Nothing reached the broker before the kill: each message was sent once.
        Assert.Equal(Enumerable.Range(0, Count), Arrivals(probe, run).Select(x => ((CrashHostMessage)x.Message).Index).Order());
    }

    [Fact]
    public async Task Messages_handed_off_at_their_commit_and_killed_before_the_send_are_delivered_once_after_the_lease()
    {
        var run = NewRun();
        await using var probe = await StartProbe();

        // Committed leased for the process's own hand-off, which was killed as it was about to send the first message.
        await PublishAndKillAt(run, "before-send:1", HandOff);
        Assert.Empty(Arrivals(probe, run));
        Assert.Equal(Count / 5, await infrastructure.Count(
            "SELECT count(*) FROM messaging.outbox_state WHERE next_attempt_at > now() AND outbox_id IN " +
            "(SELECT outbox_id FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%')", run));

        // Another process's delivery loop (the restarted one, handing off nothing) takes them once the lease has run out.
        using var restarted = CrashHost.Start(infrastructure, "run", run);
        await EachTookEffectOnce(probe, run);
        Assert.Equal(Enumerable.Range(0, Count), Arrivals(probe, run).Select(x => ((CrashHostMessage)x.Message).Index).Order());
    }

    static readonly Dictionary<string, string> HandOff = new() { ["SAGAS_CRASH_HANDOFF"] = "1" };

    [Fact]
    public async Task Messages_sent_but_not_yet_deleted_at_a_kill_are_sent_again_and_the_inbox_drops_the_duplicates()
    {
        var run = NewRun();
        await using var probe = await StartProbe();

        // Killed once the broker had confirmed seven sends, before the delivery service deleted their rows.
        await PublishAndKillAt(run, "after-send:7");
        await Eventually.Until(() => Task.FromResult(Arrivals(probe, run).Count), n => n >= 7, Patience,
            because: "the seven confirmed sends are at the broker");

        using var restarted = CrashHost.Start(infrastructure, "run", run);
        await EachTookEffectOnce(probe, run);

        // The restarted process sent the seven again, with their message ids: the broker carried duplicates.
        Assert.True(Arrivals(probe, run).Count >= Count + 7, $"{Arrivals(probe, run).Count} deliveries of {Count} messages");
    }

    [Fact]
    public async Task A_message_whose_consumer_was_killed_inside_its_transaction_is_redelivered_and_consumed_once()
    {
        var run = NewRun();
        await using var probe = await StartProbe();

        using (var killed = CrashHost.Start(infrastructure, "run", run, killAt: "in-consume:7"))
        {
            await killed.WaitForLine("READY");
            await PublishDirectly(Enumerable.Range(0, Count).Select(index => new CrashHostMessage(run, index)).ToArray());
            await killed.WaitUntilKilled();
        }

        // Its effect row was written in the killed transaction: nothing of it is left.
        Assert.Equal(0, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference = $1", $"{run}/7"));

        using var restarted = CrashHost.Start(infrastructure, "run", run);
        await EachTookEffectOnce(probe, run);
        Assert.Equal(Count, Arrivals(probe, run).Count);
    }

    static string NewRun() => $"run-{NewId.NextGuid()}";

    Task<MessageProbe> StartProbe() => MessageProbe.Start(infrastructure, (e, p) => e.Handler<CrashHostMessage>(c => p.Record(c)));

    static List<Arrival> Arrivals(MessageProbe probe, string run) =>
        probe.Arrivals.Where(x => x.Message is CrashHostMessage m && m.Run == run).ToList();

    /// <summary>A process commits the run's messages and is killed at <paramref name="killAt"/>: all of them are still in its outbox.</summary>
    async Task PublishAndKillAt(string run, string killAt, IReadOnlyDictionary<string, string>? environment = null)
    {
        using (var killed = CrashHost.Start(infrastructure, "publish", run, killAt: killAt, environment: environment))
            await killed.WaitUntilKilled();

        Assert.Equal(Count, await OutboxRowsOf(run));
    }

    Task<long> OutboxRowsOf(string run) =>
        infrastructure.Count("SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%' || $1 || '%'", run);

    // Published by a bus of the spec's own, straight to the broker.
    async Task PublishDirectly(params CrashHostMessage[] messages)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(infrastructure.ConfigureRabbitMq);
        await bus.StartAsync();
        try
        {
            foreach (var message in messages)
                await bus.Publish(message);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    // Every message reached the broker and the probe; every copy the broker carried reached the consumer's inbox (a
    // duplicate adds to the receive count of its entry, its consumption is skipped); each message has exactly one effect.
    async Task EachTookEffectOnce(MessageProbe probe, string run)
    {
        await Eventually.Until(() => Task.FromResult(Arrivals(probe, run).Select(x => x.MessageId).Distinct().Count()), n => n == Count,
            Patience, because: "every message reached the probe");
        await Eventually.Until(() => OutboxRowsOf(run), n => n == 0, Patience, because: "the outbox was sent and its rows removed");

        // Nothing of the run is left to send: once a message published now has reached the probe (one queue, consumed in
        // order), so has every copy of the run.
        var sentinel = new CrashHostMessage($"{run}-sentinel", 0);
        await PublishDirectly(sentinel);
        await Eventually.Until(() => Task.FromResult(probe.Received<CrashHostMessage>().Contains(sentinel)), Patience,
            because: "the sentinel reached the probe");

        var copies = Arrivals(probe, run);
        var ids = copies.Select(x => x.MessageId!.Value).Distinct().ToArray();
        // Every message consumed (its effect commits with its consumed stamp). Counting received copies alone is not
        // enough: a copy the killed process had received counts although its message is still waiting to be consumed.
        await Eventually.Until(() => infrastructure.Count(
                "SELECT count(DISTINCT message_id) FROM messaging.inbox_state WHERE message_id = ANY($1) AND consumed IS NOT NULL", ids),
            n => n == ids.Length, Patience, because: "every message was consumed");
        await Eventually.Until(() => infrastructure.Count(
                "SELECT coalesce(sum(receive_count), 0) FROM messaging.inbox_state WHERE message_id = ANY($1) AND consumed IS NOT NULL",
                copies.Select(x => x.MessageId!.Value).Distinct().ToArray()),
            n => n >= copies.Count, Patience, because: $"the {copies.Count} copies reached the consumer's inbox");

        Assert.Equal(Count, await infrastructure.Count("SELECT count(*) FROM test.ledger WHERE reference LIKE $1 || '/%'", run));
        Assert.Equal(Count, await infrastructure.Count("SELECT count(DISTINCT reference) FROM test.ledger WHERE reference LIKE $1 || '/%'", run));
    }

    /// <summary>A CrashHost process; SIGKILLed when disposed if it is still running (stopped or not).</summary>
    internal sealed class CrashHost : IDisposable
    {
        readonly Process _process;
        readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        readonly ConcurrentQueue<string> _output = new();
        readonly string? _killAt;

        CrashHost(Process process, string? killAt)
        {
            _process = process;
            _killAt = killAt;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                    return;
                _output.Enqueue(e.Data);
                _lines.Writer.TryWrite(e.Data);
            };
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                    _output.Enqueue(e.Data);
            };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public static CrashHost Start(MessagingInfrastructure infrastructure, string mode, string run, string? killAt = null,
            IReadOnlyDictionary<string, string>? environment = null)
        {
            var settings = infrastructure.Settings;
            var start = new ProcessStartInfo("dotnet", [typeof(CrashHostMessage).Assembly.Location])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["SAGAS_CRASH_MODE"] = mode,
                    ["SAGAS_CRASH_RUN"] = run,
                    ["SAGAS_CRASH_COUNT"] = Count.ToString(),
                    ["SAGAS_CRASH_KILL_AT"] = killAt ?? "",
                    ["SAGAS_CRASH_POSTGRES"] = infrastructure.Database.ConnectionString,
                    ["SAGAS_CRASH_RABBIT_HOST"] = settings.RabbitHost,
                    ["SAGAS_CRASH_RABBIT_PORT"] = settings.RabbitPort.ToString(),
                    ["SAGAS_CRASH_RABBIT_VHOST"] = infrastructure.VirtualHost.Name,
                    ["SAGAS_CRASH_RABBIT_USER"] = settings.RabbitUser,
                    ["SAGAS_CRASH_RABBIT_PASSWORD"] = settings.RabbitPassword,
                },
            };
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
                start.Environment[key] = value;
            return new CrashHost(Process.Start(start)!, killAt);
        }

        public async Task WaitForLine(string expected)
        {
            using var timeout = new CancellationTokenSource(Patience);
            try
            {
                await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
                {
                    if (line == expected)
                        return;
                }
            }
            catch (OperationCanceledException)
            {
            }

            throw new TimeoutException($"The crash host did not print '{expected}' within {Patience}; its output:\n{string.Join("\n", _output)}");
        }

        /// <summary>Waits until the process has killed itself at its kill point: it said so, and SIGKILL ended it.</summary>
        public async Task WaitUntilKilled()
        {
            await WaitForLine($"KILLING {_killAt}");
            using var timeout = new CancellationTokenSource(Patience);
            await _process.WaitForExitAsync(timeout.Token);
            Assert.Equal(128 + 9, _process.ExitCode);
        }

        /// <summary>Waits until the process has stopped itself at its stop point: it said so, and the kernel shows it stopped.</summary>
        public async Task WaitUntilStopped()
        {
            await WaitForLine($"STOPPING {_killAt}");
            await Eventually.Until(() => Task.FromResult(IsStopped), Patience, because: "the process stopped itself with SIGSTOP");
        }

        /// <summary>Stopped by a signal (state T in /proc/&lt;pid&gt;/stat): nothing of it runs.</summary>
        public bool IsStopped =>
            !_process.HasExited && File.ReadAllText($"/proc/{_process.Id}/stat") is var stat && stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');

        /// <summary>SIGCONT: the stopped process carries on from where it stood.</summary>
        public void Continue()
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-CONT", _process.Id.ToString()]) { UseShellExecute = false });
            kill!.WaitForExit();
            Assert.Equal(0, kill.ExitCode);
        }

        public string Output => string.Join("\n", _output);

        // Process.Kill is SIGKILL on Linux: no shutdown hooks, no flushing, no chance to deliver anything.
        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
