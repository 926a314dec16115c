using Microsoft.Extensions.Options;

namespace Sagas.Api.Orders.Admission;

/// <summary>
/// Every 250 ms, one <see cref="WaitingForQrQuery"/> (never one per request) feeds the <see cref="QrWaitEstimator"/>, and
/// <see cref="OrderAdmission"/> decides from the result. Logs when the door shuts and opens again.
/// </summary>
public sealed class AdmissionRefresher(WaitingForQrQuery query, OrderAdmission admission, IOptions<AdmissionOptions> options,
    TimeProvider clock, ILogger<AdmissionRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Long enough to smooth a 250 ms sample's noise, short enough to follow a Workers instance lost or added.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lookback = options.Value.Lookback;
        var estimator = new QrWaitEstimator(RateWindow);
        WaitingForQr? last = null;
        var refusing = false;
        var failing = false;
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                var now = clock.GetUtcNow();
                var admittedBefore = admission.Admitted;
                var reading = await query.ReadAsync(last?.Anchor ?? now - lookback, now - lookback, stoppingToken);
                var estimate = estimator.Add(now, reading.Backlog, reading.LeftSince(last));
                admission.Update(estimate, admittedBefore);
                last = reading;
                if (failing)
                    logger.LogInformation("Admission control: reading the backlog again");
                failing = false;

                var judged = admission.Judge(estimate);
                if (judged.Refused != refusing)
                    LogTransition(judged, estimate);
                refusing = judged.Refused;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Once per outage: after OrderAdmission.StaleAfter the last estimate no longer counts and orders are admitted.
                if (!failing)
                    logger.LogWarning("Admission control: the backlog could not be read ({Reason}); orders are admitted once the last reading is {StaleAfter} old",
                        e.Message, OrderAdmission.StaleAfter);
                failing = true;
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    void LogTransition(AdmissionDecision judged, QrWaitEstimate estimate)
    {
        var rate = estimate.QrPerSecond is double r ? $"{r:0.0}/s" : "none lately";
        if (judged.Refused)
            logger.LogWarning(
                "Admission control: overloaded, POST /orders answers 503 ({Reason}): estimated QR wait {Wait:0.0} s (limit {MaxQrWait:0.0} s), " +
                "{Backlog} orders waiting for their QR code (limit {MaxBacklog}), QR codes {Rate}, no progress for {Quiet:0.0} s",
                judged.Reason, judged.EstimatedWait.TotalSeconds, options.Value.MaxQrWait.TotalSeconds, estimate.Backlog,
                options.Value.MaxBacklog, rate, estimate.Quiet.TotalSeconds);
        else
            logger.LogInformation(
                "Admission control: admitting new orders again: estimated QR wait {Wait:0.0} s, {Backlog} orders waiting for their QR code, QR codes {Rate}",
                judged.EstimatedWait.TotalSeconds, estimate.Backlog, rate);
    }
}
