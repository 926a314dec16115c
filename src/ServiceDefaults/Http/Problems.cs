using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sagas.ServiceDefaults.Http;

/// <summary>
/// The system's error answers, application/problem+json (RFC 9457; http-contract.md, "Conventions": <c>type</c>,
/// <c>title</c>, <c>status</c>, <c>detail</c>, and <c>errors</c> for validation). One builder per kind of answer, so an
/// endpoint names what went wrong and the status, title and type follow. Every service writes its problems with these,
/// and the payment sandbox compiles this very file in (it references nothing else of the system).
/// <para>
/// <c>type</c> stays ASP.NET Core's RFC 9110 link for the status unless a problem needs one of its own
/// (<see cref="Types"/>); the title is the status's reason phrase (<see cref="Title"/>).
/// </para>
/// </summary>
public static class Problems
{
    /// <summary>
    /// The <c>type</c> of a problem that needs one beyond its status code: an identifier, not a page to fetch (the reserved
    /// <c>.example</c> domain says so).
    /// </summary>
    public static class Types
    {
        /// <summary>POST /orders refused because a new order could not get its QR code in time (503 with Retry-After).</summary>
        public const string Overloaded = "https://sagas.example/problems/overloaded";

        /// <summary>429 with Retry-After: over a rate limit. RFC 9110 has no 429, and ASP.NET Core gives it no type of its own.</summary>
        public const string TooManyRequests = "https://sagas.example/problems/too-many-requests";
    }

    public static ProblemHttpResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, detail);

    public static ProblemHttpResult Unauthorized(string detail) => Of(StatusCodes.Status401Unauthorized, detail);

    public static ProblemHttpResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);

    public static ProblemHttpResult Conflict(string detail) => Of(StatusCodes.Status409Conflict, detail);

    /// <summary>422: understood, but what it names cannot be done (an unknown sku; with the skus in an extension).</summary>
    public static ProblemHttpResult Unprocessable(string detail, IDictionary<string, object?>? extensions = null) =>
        Of(StatusCodes.Status422UnprocessableEntity, detail, extensions: extensions);

    public static ProblemHttpResult BadGateway(string detail) => Of(StatusCodes.Status502BadGateway, detail);

    public static ProblemHttpResult Unavailable(string detail) => Of(StatusCodes.Status503ServiceUnavailable, detail);

    /// <summary>503 of a new order refused by admission control; the caller sets Retry-After.</summary>
    public static ProblemHttpResult Overloaded(string detail) =>
        Of(StatusCodes.Status503ServiceUnavailable, detail, Types.Overloaded);

    /// <summary>
    /// 400 with <c>errors: { field: [messages] }</c>; the detail says the same in one line ("currency is required; lines
    /// must not be empty"), for a reader that shows only the detail.
    /// </summary>
    public static IResult Invalid(IDictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors, detail: string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")));

    public static IResult Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A problem of any status (a forwarded or simulated failure), titled by <paramref name="title"/> or its reason phrase.</summary>
    public static ProblemHttpResult Of(int status, string detail, string? type = null, string? title = null,
        IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title ?? Title(status), type: type, extensions: extensions);

    /// <summary>The title of a status: its reason phrase as RFC 9110 words it ("Unprocessable Content", not the older "Entity").</summary>
    public static string Title(int status) => status switch
    {
        StatusCodes.Status422UnprocessableEntity => "Unprocessable Content",
        StatusCodes.Status413PayloadTooLarge => "Payload Too Large",
        499 => "Client Closed Request",
        _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error",
    };
}
