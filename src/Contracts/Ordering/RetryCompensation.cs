namespace Sagas.Contracts.Ordering;

/// <summary>
/// Support asks the saga to issue again whatever it is still waiting for (a refund, a QR withdrawal, a stock release
/// or the placement), e.g. once the provider accepts refunds again. Every step is idempotent by key, so asking twice
/// never does anything twice.
/// </summary>
public sealed record RetryCompensation
{
    public Guid OrderId { get; init; }

    /// <summary>The support client that asked (for the timeline).</summary>
    public string RequestedBy { get; init; } = "";
}
