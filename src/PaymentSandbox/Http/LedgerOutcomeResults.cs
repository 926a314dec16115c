using Sagas.PaymentSandbox.Payments;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Http;

public static class LedgerOutcomeResults
{
    /// <summary>
    /// Done and Replayed answer alike (an idempotent repeat gets the first answer again); refusals become
    /// problem+json.
    /// </summary>
    public static IResult ToResult<T>(this LedgerOutcome<T> outcome, Func<T, IResult> success) where T : class =>
        outcome.Kind switch
        {
            LedgerOutcomeKind.Done or LedgerOutcomeKind.Replayed => success(outcome.Value!),
            LedgerOutcomeKind.NotFound => Problems.NotFound(outcome.Detail!),
            LedgerOutcomeKind.Conflict => Problems.Conflict(outcome.Detail!),
            _ => throw new InvalidOperationException($"Unknown outcome {outcome.Kind}."),
        };
}
