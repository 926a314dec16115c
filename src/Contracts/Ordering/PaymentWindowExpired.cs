using MassTransit;

namespace Sagas.Contracts.Ordering;

/// <summary>
/// Timer the order saga schedules to itself when it asks for a payment: the customer did not pay in time.
/// Only ever sent to the saga's own queue by the scheduler, never published.
/// </summary>
[ConfigureConsumeTopology(false)]
public sealed record PaymentWindowExpired
{
    public Guid OrderId { get; init; }
}
