namespace Sagas.PaymentSandbox.Payments;

public enum LedgerOutcomeKind
{
    /// <summary>The request changed the ledger (or read it).</summary>
    Done,

    /// <summary>An idempotent repeat: nothing changed, the earlier answer is given again.</summary>
    Replayed,
    NotFound,
    Conflict,
}

/// <summary>What a ledger operation did, for the endpoint to turn into a status code.</summary>
public sealed record LedgerOutcome<T>(LedgerOutcomeKind Kind, T? Value, string? Detail) where T : class
{
    public static LedgerOutcome<T> Done(T value) => new(LedgerOutcomeKind.Done, value, null);
    public static LedgerOutcome<T> Replayed(T value) => new(LedgerOutcomeKind.Replayed, value, null);
    public static LedgerOutcome<T> NotFound(string detail) => new(LedgerOutcomeKind.NotFound, null, detail);
    public static LedgerOutcome<T> Conflict(string detail) => new(LedgerOutcomeKind.Conflict, null, detail);
}
