using MassTransit;

namespace Sagas.Contracts.Ordering;

/// <summary>
/// Timer the order saga keeps while it waits for a step it asked for (placement, refund, QR withdrawal, stock
/// release): when it fires and the step is still unanswered, the saga asks again with a longer delay, and after a few
/// rounds flags the order for support. Only ever sent to the saga's own queue by the scheduler, never published.
/// </summary>
[ConfigureConsumeTopology(false)]
public sealed record PendingWorkDue
{
    public Guid OrderId { get; init; }
}
