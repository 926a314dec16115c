using Microsoft.AspNetCore.Http.HttpResults;

namespace Sagas.PaymentSandbox.Http;

/// <summary>
/// The one place where the sandbox's answers become application/problem+json (RFC 9457). Endpoints use
/// these helpers; anything else that ends in an error status without a body (binding failures, unknown
/// routes, unhandled exceptions) goes through the status code pages / exception handler, which use the
/// same <see cref="Customize"/>.
/// </summary>
public static class ProblemResponses
{
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Type ??= "about:blank";
        problem.Title ??= ReasonPhrase(problem.Status);
        problem.Detail ??= problem.Status == StatusCodes.Status400BadRequest
            // Only binding failures reach here without a detail: the endpoints' own 400s always carry one.
            ? "The request could not be read: malformed JSON, a field of the wrong type, or a missing body."
            : problem.Title;
        // Exception messages and stack traces never leave the process; the exception handler already logged them.
        problem.Extensions.Remove("exception");
    }

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Unprocessable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unprocessable content");

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");

    public static ProblemHttpResult BadGateway(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway");

    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, "One or more fields are invalid.", title: "Invalid request");

    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    static string ReasonPhrase(int? status) =>
        status is { } code && Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code) is { Length: > 0 } phrase
            ? phrase
            : "Error";
}
