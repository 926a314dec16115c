using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Sagas.Messaging.Postgres;

namespace Sagas.Api.Hosting;

/// <summary>
/// The one place where failures become problem+json (http-contract.md, "Conventions"): bad requests keep
/// their status (400 malformed JSON or wrong types, 413 body over 64 KiB), anything unexpected is a 500
/// whose body says nothing about the code. Never a stack trace.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (413, "Payload Too Large", "The request body is larger than 64 KiB."),
            BadHttpRequestException { InnerException: JsonException } or JsonException =>
                (400, "Bad Request", "The request body is not valid JSON of the expected shape."),
            BadHttpRequestException bad => (bad.StatusCode, "Bad Request", "The request could not be read."),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested =>
                (499, "Client Closed Request", "The client closed the request."),
            TimeoutException or OperationCanceledException =>
                (503, "Service Unavailable", "A dependency did not answer in time; retry later."),
            // The database is unreachable or timed out (not a server-side error, which is a PostgresException):
            // nothing was committed, so retrying later is safe — POST /orders is idempotent by key.
            Npgsql.NpgsqlException database when PostgresErrors.IsUnavailable(database) =>
                (503, "Service Unavailable", "The database is unavailable; nothing was recorded, retry later."),
            _ => (500, "Internal Server Error", "An unexpected error occurred; it has been logged."),
        };

        if (status == 503)
            logger.LogWarning("Request {Method} {Path} answered 503: {Reason}", context.Request.Method, context.Request.Path, exception.Message);
        else if (status >= 500)
            logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);

        context.Response.StatusCode = status;
        if (status == 503)
            context.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
