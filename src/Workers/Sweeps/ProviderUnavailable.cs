using Polly.CircuitBreaker;
using Polly.Timeout;
using Quartz;
using Sagas.Workers.Payments;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// A job that reads the payment provider (the payment poll, the reconciliation report) while the provider is down or
/// refuses: one warning line per run and a failed run in the sweep metrics, not Quartz's error with a full stack trace
/// every tick. The next run simply reads again.
/// </summary>
static class ProviderUnavailable
{
    public static bool Is(Exception exception) => exception is HttpRequestException or TimeoutRejectedException
        or BrokenCircuitException or PaymentProviderRejectedException
        or TaskCanceledException { InnerException: TimeoutException };

    /// <summary>Logs <paramref name="exception"/> in one line and returns what the job throws to count its run as failed.</summary>
    public static JobExecutionException Report(Exception exception, ILogger logger, string job)
    {
        logger.LogWarning("{Job}: the payment provider could not be read ({Reason}); the next run tries again", job,
            $"{exception.GetType().Name}: {exception.Message}");
        return new JobExecutionException($"{job}: the payment provider could not be read");
    }
}
