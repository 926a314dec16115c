using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Sagas.Bench;

public enum PayTreatment
{
    /// <summary>Pay the full amount at once (the customer scans the QR code immediately).</summary>
    Pay,
    /// <summary>Pay one cent less: the order must fail with amount-mismatch and the money be refunded once.</summary>
    Underpay,
    /// <summary>Never pay: the order must expire and nothing be captured.</summary>
    Skip,
    /// <summary>Pay in full once the storefront has shown the QR code (<see cref="Payer.QrShown"/>), not before.</summary>
    AfterQrShown,
}

/// <summary>
/// The customers: watches the sandbox's ledger for pending payments (a partial index on the sandbox's own
/// table, in its own database) and calls <c>POST /sandbox/qr-payments/{ref}/pay</c> as soon as the storefront can
/// show that QR code (the order's saga has recorded it: a customer pays only a QR code they were shown). The
/// sandbox has no "pay instantly" setting, so this is how "the sandbox pays at once" is played.
/// </summary>
public sealed class Payer : IAsyncDisposable
{
    readonly Stack _stack;
    readonly Func<Guid, PayTreatment> _treatment;
    readonly ConcurrentDictionary<string, byte> _seen = new();
    readonly SemaphoreSlim _concurrency = new(32);
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    // AfterQrShown: payments found before their QR was shown wait here; QR codes shown before their payment was
    // found are remembered, so whichever comes second pays.
    readonly ConcurrentDictionary<Guid, string> _waitingForQr = new();
    readonly ConcurrentDictionary<Guid, byte> _qrShown = new();
    readonly ConcurrentBag<Task> _paidAfterQr = [];
    long _paid, _underpaid, _skipped, _errors;

    public Payer(Stack stack, Func<Guid, PayTreatment>? treatment = null)
    {
        _stack = stack;
        _treatment = treatment ?? (_ => PayTreatment.Pay);
        _loop = Task.Run(LoopAsync);
    }

    public long Paid => Interlocked.Read(ref _paid);
    public long Underpaid => Interlocked.Read(ref _underpaid);
    public long Skipped => Interlocked.Read(ref _skipped);
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Deterministic by order id: about 5% skipped, 5% underpaid, the rest paid.</summary>
    public static PayTreatment Mixed(Guid orderId)
    {
        var bucket = (int)((uint)orderId.GetHashCode() % 100);
        return bucket < 5 ? PayTreatment.Skip : bucket < 10 ? PayTreatment.Underpay : PayTreatment.Pay;
    }

    async Task LoopAsync()
    {
        var pending = new List<Task>();
        while (!_stop.IsCancellationRequested)
        {
            var found = 0;
            try
            {
                await using var command = _stack.SandboxData.CreateCommand(
                    "SELECT provider_reference, merchant_reference, amount FROM sandbox.payments WHERE status = 'pending' ORDER BY created_at LIMIT 1000");
                await using var reader = await command.ExecuteReaderAsync(_stop.Token);
                var batch = new List<(string Reference, string Merchant, decimal Amount)>();
                while (await reader.ReadAsync(_stop.Token))
                    batch.Add((reader.GetString(0), reader.GetString(1), reader.GetDecimal(2)));
                batch.RemoveAll(p => _seen.ContainsKey(p.Reference));
                var shown = await ShownAsync(batch);
                foreach (var (reference, merchant, amount) in batch)
                {
                    var treatment0 = Guid.TryParse(merchant, out var id) ? _treatment(id) : PayTreatment.Pay;
                    // Not shown to anyone yet: nobody can pay it; look again next round.
                    if (treatment0 is PayTreatment.Pay or PayTreatment.Underpay && !shown.Contains(reference))
                        continue;
                    if (!_seen.TryAdd(reference, 0))
                        continue;
                    found++;
                    var treatment = Guid.TryParse(merchant, out var orderId) ? _treatment(orderId) : PayTreatment.Pay;
                    if (treatment == PayTreatment.Skip)
                    {
                        Interlocked.Increment(ref _skipped);
                        continue;
                    }

                    if (treatment == PayTreatment.AfterQrShown)
                    {
                        _waitingForQr[orderId] = reference;
                        if (_qrShown.ContainsKey(orderId))
                            PayWaiting(orderId);
                        continue;
                    }

                    await _concurrency.WaitAsync(_stop.Token);
                    pending.Add(PayAsync(reference, treatment == PayTreatment.Underpay ? amount - 0.01m : null));
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception)
            {
                // The database restarts in one scenario; look again shortly.
                Interlocked.Increment(ref _errors);
                await Delay(200);
            }

            pending.RemoveAll(t => t.IsCompleted);
            await Delay(found > 0 ? 5 : 20);
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Which of these QR payments the storefront can show: their order's saga recorded the QR code.</summary>
    async Task<HashSet<string>> ShownAsync(List<(string Reference, string Merchant, decimal Amount)> payments)
    {
        var orders = payments.Select(p => Guid.TryParse(p.Merchant, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).Distinct().ToArray();
        if (orders.Length == 0)
            return [];
        Interlocked.Increment(ref _stack.OwnQueries);
        await using var command = _stack.Data.CreateCommand(
            "SELECT provider_reference FROM ordering.order_state WHERE order_id = ANY($1) AND qr_payload IS NOT NULL");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = orders });
        await using var reader = await command.ExecuteReaderAsync(_stop.Token);
        var shown = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(_stop.Token))
            shown.Add(reader.GetString(0));
        return shown;
    }

    /// <summary>The storefront showed this order's QR code: its customer pays now (see <see cref="PayTreatment.AfterQrShown"/>).</summary>
    public void QrShown(Guid orderId)
    {
        _qrShown[orderId] = 0;
        PayWaiting(orderId);
    }

    void PayWaiting(Guid orderId)
    {
        if (!_waitingForQr.TryRemove(orderId, out var reference))
            return;
        _paidAfterQr.Add(Task.Run(async () =>
        {
            await _concurrency.WaitAsync();
            await PayAsync(reference, null);
        }));
    }

    async Task PayAsync(string reference, decimal? amount)
    {
        try
        {
            for (var attempt = 1; attempt <= 20 && !_stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    var body = amount is { } a ? $"{{\"amount\":{a.ToString(CultureInfo.InvariantCulture)}}}" : "{}";
                    using var response = await _stack.SandboxHttp.PostAsync($"/sandbox/qr-payments/{reference}/pay",
                        new StringContent(body, Encoding.UTF8, "application/json"));
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref amount is null ? ref _paid : ref _underpaid);
                        return;
                    }

                    if ((int)response.StatusCode is >= 400 and < 500)
                        return; // expired or canceled meanwhile: the customer was too late
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }

                Interlocked.Increment(ref _errors);
                await Delay(250);
            }
        }
        finally
        {
            _concurrency.Release();
        }
    }

    async Task Delay(int milliseconds)
    {
        try
        {
            await Task.Delay(milliseconds, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        await Task.WhenAll(_paidAfterQr);
        _stop.Dispose();
    }
}
