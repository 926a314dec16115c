using System.Collections.Concurrent;
using Sagas.Testing;

namespace Sagas.Bench;

// ReliabilityRun, the scenarios of many hands: two of each service, one Workers frozen, a storefront cancelling every order.
public sealed partial class ReliabilityRun
{
    /// <summary>Two Workers and two Apis side by side for one scenario.</summary>
    async Task TwoInstancesAsync()
    {
        await ScenarioAsync("two Workers + two Apis", "TI", (_, _) => Task.CompletedTask,
            before: async () =>
            {
                progress("starting a second Api and a second Workers");
                await Task.WhenAll(_stack!.AddApiAsync(), _stack!.AddWorkersAsync());
            },
            after: async () =>
            {
                await Task.WhenAll(_stack!.Apis.Skip(1).Concat(_stack!.Workers.Skip(1)).Select(p => p.StopAsync()));
                _stack!.Apis.RemoveRange(1, _stack!.Apis.Count - 1);
                _stack!.Workers.RemoveRange(1, _stack!.Workers.Count - 1);
            });
    }

    async Task FrozenWorkersAsync()
    {
        // One of two Workers frozen (SIGSTOP, as a paused VM) while the orders flow, then resumed: PostgreSQL ends its
        // transactions (idle_in_transaction_session_timeout) and RabbitMQ its connection (heartbeat), the other Workers
        // completes what it held, and resumed it repeats nothing. Besides the usual verdicts: no message faulted.
        ServiceProcess? frozen = null;
        // What the freeze did to the frozen Workers, from its log: transactions PostgreSQL ended (25P03).
        var ended = 0;
        void CountEnded(string line)
        {
            if (line.Contains("25P03", StringComparison.Ordinal))
                Interlocked.Increment(ref ended);
        }

        await ScenarioAsync("frozen Workers", "FW", async (submission, _) =>
        {
            await WaitUntil(_t0 + submission * 0.2);
            progress($"SIGSTOP Workers (pid {Pid(frozen!)}) at t={Clock.Now - _t0:0.0}s for {profile.Freeze.TotalSeconds:0} s");
            frozen!.Signal("STOP");
            try
            {
                await Task.Delay(profile.Freeze);
            }
            finally
            {
                frozen.Signal("CONT");
                progress($"SIGCONT Workers at t={Clock.Now - _t0:0.0}s");
            }
        }, fullSize: true,
            before: async () =>
            {
                progress("starting a second Workers (the one to freeze)");
                frozen = await _stack!.AddWorkersAsync(profile.FrozenWorkersSettings);
                frozen.LineWritten += CountEnded;
            },
            after: async () =>
            {
                var faulted = await TemporaryVirtualHost.ErrorQueueMessagesAsync(infrastructure.Settings, _stack!.VirtualHost.Name);
                report.Verdicts.Add(new Verdict("frozen Workers", "nothing left in error queues", faulted.Count == 0,
                    (faulted.Count == 0 ? "every error queue empty" : string.Join(", ", faulted.Select(kv => $"{kv.Key}: {kv.Value}")))
                    + $"; the frozen Workers logged {Volatile.Read(ref ended)} line(s) with 25P03 (a transaction ended by the server)"));
                frozen!.LineWritten -= CountEnded;
                await frozen!.StopAsync();
                _stack.Workers.Remove(frozen);
            });
    }

    async Task CancelStormAsync()
    {
        // The storefront cancels every order: half right after its 202, half up to 500 ms after their QR code can be
        // shown — when the customers (the payer) pay it, so those cancels race the payments. Every cancel answered 202
        // must end Canceled, every capture be refunded once (the usual verdicts) and the stock come back.
        var cancels = new ConcurrentDictionary<Guid, int>();
        var raced = new ConcurrentDictionary<Guid, byte>();
        await ScenarioAsync("cancel storm", "CS", (_, _) => Task.CompletedTask,
            onAccepted: async order =>
            {
                var hash = (uint)order.OrderId.GetHashCode();
                if ((hash & 1) == 1 && await QrShownAsync(order.OrderId))
                {
                    // 0–500 ms after the QR code appeared: before, during and after the customer's payment lands.
                    raced[order.OrderId] = 0;
                    await Task.Delay(TimeSpan.FromMilliseconds((hash >> 1) % 500));
                }

                cancels[order.OrderId] = await _stack!.Storefront.CancelAsync(order.OrderId);
            },
            after: async () =>
            {
                var promised = cancels.Where(kv => kv.Value == 202).Select(kv => kv.Key).ToArray();
                var states = await Verdicts.StatesAsync(_stack!, promised);
                var broken = promised.Where(id => states.GetValueOrDefault(id) != "Canceled").ToList();
                var refused = cancels.Count(kv => kv.Value != 202);
                var captured = (await _stack!.LedgerAsync()).Where(p => p.CapturedAmount is not null)
                    .Select(p => p.MerchantReference).ToHashSet();
                var paidThenCanceled = promised.Count(id => captured.Contains(id.ToString()));
                report.Verdicts.Add(new Verdict("cancel storm", "every cancel answered 202 ends Canceled", broken.Count == 0 && promised.Length > 0,
                    $"{promised.Length} cancels answered 202, {broken.Count} of those orders not Canceled" +
                    (broken.Count > 0 ? $" (e.g. {broken[0]}: {states.GetValueOrDefault(broken[0]) ?? "no saga"})" : "") +
                    (refused > 0 ? $"; {refused} cancels refused ({string.Join(", ", cancels.Values.Where(v => v != 202).Distinct())})" : "")));
                // Without captures among the canceled orders the refund verdicts above would hold vacuously.
                report.Verdicts.Add(new Verdict("cancel storm", "cancels raced payments", paidThenCanceled > 0,
                    $"{raced.Count} cancels sent as the QR code appeared; {paidThenCanceled} orders canceled with 202 had been paid"));
            });
    }
}
