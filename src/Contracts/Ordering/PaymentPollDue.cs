using MassTransit;

namespace Sagas.Contracts.Ordering;

/// <summary>
/// Timer the order saga schedules to itself while it waits for a payment: time to ask the provider again.
/// Only ever sent to the saga's own queue by the scheduler, never published.
/// </summary>
[ConfigureConsumeTopology(false)]
public sealed record PaymentPollDue
{
    public Guid OrderId { get; init; }
}
