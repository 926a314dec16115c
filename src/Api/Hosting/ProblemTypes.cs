namespace Sagas.Api.Hosting;

/// <summary>
/// The <c>type</c> of a problem that needs one beyond its status code (RFC 9457: an identifier, not a page to fetch; the
/// reserved <c>.example</c> domain says so). Every other problem keeps ASP.NET Core's RFC 9110 link for its status.
/// </summary>
public static class ProblemTypes
{
    /// <summary>POST /orders refused because a new order could not get its QR code in time (503 with Retry-After).</summary>
    public const string Overloaded = "https://sagas.example/problems/overloaded";

    /// <summary>429 with Retry-After: over a rate limit. RFC 9110 has no 429, and ASP.NET Core gives it no type of its own.</summary>
    public const string TooManyRequests = "https://sagas.example/problems/too-many-requests";
}
