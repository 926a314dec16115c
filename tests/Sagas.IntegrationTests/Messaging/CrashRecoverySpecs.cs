using System.Diagnostics;
using System.Threading.Channels;
using MassTransit;
using Sagas.Messaging.CrashHost;
using Sagas.Testing;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>A process killed (SIGKILL) after its outbox committed and before anything reached the broker.</summary>
public sealed class Crash_recovery(MessagingInfrastructure infrastructure) : IClassFixture<MessagingInfrastructure>
{
    [Fact]
    public async Task Messages_committed_before_a_kill_are_delivered_once_after_restart()
    {
        await using var probe = await MessageProbe.Start(infrastructure, (e, p) => e.Handler<CrashHostMessage>(c => p.Record(c)));

        using (var held = ChildProcess.Start(infrastructure, "hold", count: 20))
        {
            await held.WaitForLine(line => line == "COMMITTED 20");
            held.Kill();
        }

        Assert.Equal(20, await infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"));
        Assert.Empty(probe.Received<CrashHostMessage>());

        using var restarted = ChildProcess.Start(infrastructure, "deliver");
        try
        {
            await Eventually.Until(() => Task.FromResult(probe.Received<CrashHostMessage>().Count), n => n >= 20, TimeSpan.FromSeconds(60),
                because: "the restarted process delivered the outbox");
            await Eventually.Until(() => infrastructure.Count("SELECT count(*) FROM messaging.outbox_message"), n => n == 0);

            var indexes = probe.Received<CrashHostMessage>().Select(x => x.Index).Order().ToList();
            Assert.Equal(Enumerable.Range(0, 20), indexes);
        }
        finally
        {
            restarted.Kill();
        }
    }

    sealed class ChildProcess : IDisposable
    {
        readonly Process _process;
        readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        ChildProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                    _lines.Writer.TryWrite(e.Data);
            };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public static ChildProcess Start(MessagingInfrastructure infrastructure, string mode, int count = 0)
        {
            var settings = infrastructure.Settings;
            var start = new ProcessStartInfo("dotnet", [typeof(CrashHostMessage).Assembly.Location])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["SAGAS_CRASH_MODE"] = mode,
                    ["SAGAS_CRASH_COUNT"] = count.ToString(),
                    ["SAGAS_CRASH_POSTGRES"] = infrastructure.Database.ConnectionString,
                    ["SAGAS_CRASH_RABBIT_HOST"] = settings.RabbitHost,
                    ["SAGAS_CRASH_RABBIT_PORT"] = settings.RabbitPort.ToString(),
                    ["SAGAS_CRASH_RABBIT_VHOST"] = infrastructure.VirtualHost.Name,
                    ["SAGAS_CRASH_RABBIT_USER"] = settings.RabbitUser,
                    ["SAGAS_CRASH_RABBIT_PASSWORD"] = settings.RabbitPassword,
                },
            };
            return new ChildProcess(Process.Start(start)!);
        }

        public async Task WaitForLine(Func<string, bool> match)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
            {
                if (match(line))
                    return;
            }
        }

        // Process.Kill is SIGKILL on Linux: no shutdown hooks, no flushing, no chance to deliver anything.
        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }
    }
}
