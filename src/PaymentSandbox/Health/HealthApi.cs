using Npgsql;
using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Storage;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Health;

public static class HealthApi
{
    static readonly TimeSpan ReadinessProbeTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
        app.MapGet("/health/ready", ReadyAsync);
        return app;
    }

    /// <summary>Ready when the schema was created at start-up and the database answers now.</summary>
    static async Task<IResult> ReadyAsync(
        LedgerReadiness readiness, NpgsqlDataSource database, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!readiness.IsReady)
            return Problems.Unavailable("The sandbox ledger schema has not been created yet.");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadinessProbeTimeout);
        try
        {
            return await LedgerSchema.ExistsAsync(database, timeout.Token)
                ? TypedResults.Ok(new { status = "ready" })
                : Problems.Unavailable("The sandbox ledger schema is missing.");
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or OperationCanceledException
                                          && !cancellationToken.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(HealthApi)).LogWarning(exception, "Readiness probe could not reach PostgreSQL");
            return Problems.Unavailable("PostgreSQL is not reachable.");
        }
    }
}
