namespace Sagas.Messaging.Outbox;

/// <summary>
/// Wakes the delivery service when an outbox has committed. Notifications coalesce but are never lost: one that
/// arrives while the service is busy makes its next wait return at once.
/// </summary>
public sealed class OutboxDeliverySignal
{
    readonly SemaphoreSlim _pending = new(0, 1);

    public void Notify()
    {
        try
        {
            _pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // already pending
        }
    }

    /// <summary>True when notified, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _pending.WaitAsync(timeout, cancellationToken);
}
