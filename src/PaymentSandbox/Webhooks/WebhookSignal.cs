namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>
/// Wakes the dispatcher after a transaction that queued a webhook commits, so delivery does not wait for
/// the next polling round. Signals coalesce: one pending wake-up is enough.
/// </summary>
public sealed class WebhookSignal
{
    readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _wake.WaitAsync(timeout, cancellationToken);
}
