using System.Text;
using Microsoft.Extensions.Options;
using Sagas.PaymentSandbox.Storage;

namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>
/// Sends queued webhooks in the background. Woken when a change commits, otherwise polls for delayed and
/// retried ones. A failed attempt (network error, timeout, any non-2xx) is retried with exponential,
/// jittered backoff until <see cref="WebhookDeliveryOptions.WebhookGiveUpAfter"/>; nothing here may take
/// the sandbox down, so every failure is logged and the loop goes on.
/// </summary>
public sealed class WebhookDispatcher(
    WebhookDeliveryQueue queue,
    WebhookSignature signature,
    WebhookSignal signal,
    LedgerReadiness readiness,
    IHttpClientFactory httpClients,
    IOptions<WebhookDeliveryOptions> options,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WhenReady.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var batchWasFull = false;
                try
                {
                    batchWasFull = await DeliverDueAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(exception, "Webhook queue could not be read; trying again shortly");
                }

                if (!batchWasFull)
                    await signal.WaitAsync(options.Value.WebhookPollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; claimed but unsent webhooks go out again after their lease.
        }
    }

    async Task<bool> DeliverDueAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        var lease = settings.WebhookTimeout + TimeSpan.FromSeconds(5);
        // Claiming and recording are short and not cancelled by a stop: a stop that lands between the claim
        // and the record would otherwise leave webhooks leased, waiting for the lease after a restart.
        var due = await queue.ClaimDueAsync(now, now + lease, settings.WebhookBatchSize, CancellationToken.None);
        await Task.WhenAll(due.Select(delivery => DeliverAsync(delivery, stoppingToken)));
        return due.Count == settings.WebhookBatchSize;
    }

    async Task DeliverAsync(WebhookDeliveryQueue.Claimed delivery, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        int? statusCode = null;
        string error;
        try
        {
            // Signed at sending time: a webhook retried minutes later must still pass the receiver's
            // replay window.
            var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, settings.WebhookUrl);
            request.Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json");
            request.Headers.Add(WebhookSignature.HeaderName, signature.Header(timestamp, delivery.Body));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, stoppingToken);
            statusCode = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await queue.MarkDeliveredAsync(delivery.Id, statusCode.Value, clock.GetUtcNow().UtcDateTime,
                    CancellationToken.None);
                return;
            }

            error = $"HTTP {statusCode}";
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException
                                          && !stoppingToken.IsCancellationRequested)
        {
            error = exception is TaskCanceledException ? $"timed out after {settings.WebhookTimeout}" : exception.Message;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await ReleaseOnShutdownAsync(delivery);
            throw;
        }

        try
        {
            await RecordFailureAsync(delivery, statusCode, error);
        }
        catch (Exception exception)
        {
            // The lease runs out and the webhook is tried again: a duplicate at worst, never a loss.
            logger.LogWarning(exception, "Could not record the failed attempt of webhook {EventId}", delivery.EventId);
        }
    }

    /// <summary>
    /// A graceful stop interrupted the attempt: hand the webhook back at once instead of leaving it to
    /// its lease, so the next start sends it without waiting. Only a crash waits for the lease.
    /// </summary>
    async Task ReleaseOnShutdownAsync(WebhookDeliveryQueue.Claimed delivery)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await queue.ReleaseAsync(delivery.Id, clock.GetUtcNow().UtcDateTime, timeout.Token);
        }
        catch (Exception exception)
        {
            logger.LogInformation(exception, "Webhook {EventId} stays leased; it is sent again after the lease",
                delivery.EventId);
        }
    }

    async Task RecordFailureAsync(WebhookDeliveryQueue.Claimed delivery, int? statusCode, string error)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        if (now - delivery.CreatedAt >= settings.WebhookGiveUpAfter)
        {
            logger.LogError("Webhook {EventId} abandoned after {Attempts} attempts to {Url}: {Error}",
                delivery.EventId, delivery.Attempts, settings.WebhookUrl, error);
            await queue.MarkAbandonedAsync(delivery.Id, statusCode, error, now, CancellationToken.None);
            return;
        }

        var retryIn = Backoff(delivery.Attempts, settings);
        logger.LogWarning("Webhook {EventId} attempt {Attempt} to {Url} failed ({Error}); retrying in {RetryIn}",
            delivery.EventId, delivery.Attempts, settings.WebhookUrl, error, retryIn);
        await queue.MarkFailedAsync(delivery.Id, statusCode, error, now + retryIn, CancellationToken.None);
    }

    static TimeSpan Backoff(int attempts, WebhookDeliveryOptions settings)
    {
        var exponent = Math.Min(attempts - 1, 20);
        var ticks = Math.Min(settings.WebhookRetryInitialDelay.Ticks * (1L << exponent), settings.WebhookRetryMaxDelay.Ticks);
        // ±20 % so that webhooks failed together do not all come back together.
        return TimeSpan.FromTicks((long)(ticks * (0.8 + Random.Shared.NextDouble() * 0.4)));
    }
}
