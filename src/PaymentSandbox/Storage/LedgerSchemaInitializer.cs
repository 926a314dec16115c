using Npgsql;

namespace Sagas.PaymentSandbox.Storage;

/// <summary>
/// Creates the schema at start-up, retrying while the database is unreachable instead of failing the
/// process, so that starting the sandbox before PostgreSQL is not an error, only "not ready yet".
/// </summary>
public sealed class LedgerSchemaInitializer(
    NpgsqlDataSource database,
    LedgerReadiness readiness,
    TimeProvider clock,
    ILogger<LedgerSchemaInitializer> logger) : BackgroundService
{
    static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LedgerSchema.CreateAsync(database, stoppingToken);
                readiness.MarkReady();
                logger.LogInformation("Sandbox ledger schema is ready");
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(exception, "Sandbox ledger schema not created yet; retrying in {Delay}", delay);
            }

            try
            {
                await Task.Delay(delay, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}
