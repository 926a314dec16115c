namespace Sagas.PaymentSandbox.Storage;

/// <summary>
/// Whether the ledger schema has been created. The process is live before that (the database may still
/// be starting); the provider and simulation endpoints answer 503 until it is ready.
/// </summary>
public sealed class LedgerReadiness
{
    readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    public Task WhenReady => _ready.Task;

    public void MarkReady() => _ready.TrySetResult();
}
