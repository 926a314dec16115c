using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Http;

/// <summary>
/// The sandbox's answers are application/problem+json (RFC 9457), built with the system's vocabulary,
/// <see cref="Problems"/> (src/ServiceDefaults/Http/Problems.cs, compiled into this project: the sandbox references
/// nothing else of the system). Anything else that ends in an error status without a body (binding failures, unknown
/// routes, unhandled exceptions) goes through the status code pages / exception handler, which use <see cref="Customize"/>.
/// </summary>
public static class ProblemResponses
{
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Type ??= "about:blank";
        problem.Title ??= problem.Status is { } status ? Problems.Title(status) : "Error";
        problem.Detail ??= problem.Status == StatusCodes.Status400BadRequest
            // Only binding failures reach here without a detail: the endpoints' own 400s always carry one.
            ? "The request could not be read: malformed JSON, a field of the wrong type, or a missing body."
            : problem.Title;
        // Exception messages and stack traces never leave the process; the exception handler already logged them.
        problem.Extensions.Remove("exception");
    }
}
