namespace Sagas.Data.Ordering;

/// <summary>
/// The order saga's states by name (<see cref="OrderState.CurrentState"/>), for code that reads orders without
/// the state machine: status queries, stats and sweeps.
/// </summary>
public static class OrderStatuses
{
    public const string Submitted = "Submitted";
    public const string AwaitingPayment = "AwaitingPayment";
    public const string Placing = "Placing";
    public const string Compensating = "Compensating";
    public const string Placed = "Placed";
    public const string Rejected = "Rejected";
    public const string Expired = "Expired";
    public const string Canceled = "Canceled";
    public const string Failed = "Failed";

    public static IReadOnlyList<string> All { get; } =
        [Submitted, AwaitingPayment, Placing, Compensating, Placed, Rejected, Expired, Canceled, Failed];

    /// <summary>States an order ends in. A final order still takes a late payment (to refund it) and, when
    /// <see cref="Placed"/>, a cancel from support.</summary>
    public static IReadOnlyList<string> Final { get; } = [Placed, Rejected, Expired, Canceled, Failed];

    public static bool IsFinal(string state) => Final.Contains(state);

    /// <summary>
    /// The states an order has not ended in, as an SQL list (<c>'Submitted', …</c>), for statements that name the
    /// states in their text rather than in a parameter (the stuck-orders count).
    /// </summary>
    public const string NotFinalSqlList = $"'{Submitted}', '{AwaitingPayment}', '{Placing}', '{Compensating}'";
}
