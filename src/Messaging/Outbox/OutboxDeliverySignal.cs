namespace Sagas.Messaging.Outbox;

/// <summary>
/// Wakes the delivery service when an outbox has committed. Notifications coalesce but are never lost: one that
/// arrives while the service is busy makes its next wait return at once.
/// </summary>
/// <param name="clock">The application's clock, which timers' due times are set by (the system clock when it registers none).</param>
public sealed class OutboxDeliverySignal(TimeProvider? clock = null)
{
    readonly SemaphoreSlim _pending = new(0, 1);
    readonly TimeProvider _clock = clock ?? TimeProvider.System;

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

    /// <summary>
    /// Notifies when an outbox committed for later (a timer) comes due, a little after its time so that the database's
    /// clock agrees it is due. Only this process is woken so: another one finds such outboxes by its fallback poll, as it
    /// does after a restart.
    /// </summary>
    public void NotifyAt(DateTime dueUtc)
    {
        var wait = dueUtc - _clock.GetUtcNow().UtcDateTime + DueMargin;
        if (wait <= DueMargin)
        {
            Notify();
            return;
        }

        _ = Task.Delay(wait, _clock).ContinueWith(static (_, state) => ((OutboxDeliverySignal)state!).Notify(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    static readonly TimeSpan DueMargin = TimeSpan.FromMilliseconds(20);

    /// <summary>True when notified, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _pending.WaitAsync(timeout, cancellationToken);
}
