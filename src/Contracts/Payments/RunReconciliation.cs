namespace Sagas.Contracts.Payments;

/// <summary>
/// Support asks (through the Api, request/response) for our orders to be compared with the provider's listing of
/// payments changed in <c>[From, To)</c>. The Workers answer <see cref="ReconciliationReported"/> once the report is
/// stored.
/// </summary>
public sealed record RunReconciliation
{
    /// <summary>The longest range one report covers (the Api refuses a longer one with 400): its listing is read in one go.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(7);

    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }

    /// <summary>The Api client that asked, recorded with the report.</summary>
    public string? RequestedBy { get; init; }
}

/// <summary>The stored report's id (<c>payments.reconciliation_reports</c>).</summary>
public sealed record ReconciliationReported
{
    public long ReportId { get; init; }
}
