using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Sagas.Api.Hosting;

namespace Sagas.Api.Orders.Admission;

/// <summary>
/// Decides, per <c>POST /orders</c> and without a query, whether a new order is accepted: from the latest
/// <see cref="QrWaitEstimate"/> (refreshed every 250 ms by <see cref="AdmissionRefresher"/>) plus the orders this
/// instance committed since that reading began and those it admitted that are still on their way to the commit, so a refresh that is a few hundred orders old does not let a burst
/// through. Refused when the estimated wait for a QR code exceeds <c>Admission:MaxQrWait</c> or the backlog reaches
/// <c>Admission:MaxBacklog</c>. An estimate older than <see cref="StaleAfter"/> (the database unreachable for the
/// refresher) admits: the accept path finds out about the database itself, and admission must not shut the door
/// because its own measurement broke.
/// </summary>
public sealed class OrderAdmission
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(5);
    const int MinRetryAfter = 1, MaxRetryAfter = 30;

    readonly AdmissionOptions _options;
    readonly TimeProvider _clock;
    readonly Counter<long> _refused;
    Reading? _reading;
    long _admitted;
    long _pending;

    sealed record Reading(QrWaitEstimate Estimate, long AdmittedBefore);

    public OrderAdmission(IOptions<AdmissionOptions> options, TimeProvider clock, IMeterFactory meters)
    {
        _options = options.Value;
        _clock = clock;
        var meter = meters.Create(ApiMetrics.MeterName);
        _refused = meter.CreateCounter<long>("sagas.orders.refused", description: "POST /orders answered 503: the system could not give a new order its QR code in time");
        meter.CreateObservableGauge("sagas.admission.qr_wait", () => Current()?.WaitFor(0).TotalSeconds ?? 0, unit: "s",
            description: "Estimated wait for the QR code of an order accepted now");
        meter.CreateObservableGauge("sagas.admission.backlog", () => Current()?.Backlog ?? 0,
            description: "Accepted orders still waiting for their QR code");
    }

    public bool Enabled => _options.Enabled;

    /// <summary>New orders this instance committed so far (a running count; see <see cref="Update"/>).</summary>
    public long Admitted => Interlocked.Read(ref _admitted);

    /// <summary>Called once a new order's transaction committed.</summary>
    public void Committed() => Interlocked.Increment(ref _admitted);

    /// <summary>
    /// Holds an admitted order as waiting until its request ends: under load many requests are between the decision
    /// and their commit at once, neither in the database's backlog nor in <see cref="Admitted"/> yet, and each must
    /// see the others (measured: 60 orders let in where 30 were meant to be).
    /// </summary>
    public IDisposable Pending()
    {
        Interlocked.Increment(ref _pending);
        return new Release(this);
    }

    sealed class Release(OrderAdmission admission) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                Interlocked.Decrement(ref admission._pending);
        }
    }

    /// <param name="admittedBefore"><see cref="Admitted"/> when the reading's query began: what came after is not in it.</param>
    public void Update(QrWaitEstimate estimate, long admittedBefore) => Volatile.Write(ref _reading, new Reading(estimate, admittedBefore));

    public AdmissionDecision Decide()
    {
        var reading = Volatile.Read(ref _reading);
        if (!_options.Enabled || reading is null || _clock.GetUtcNow() - reading.Estimate.At > StaleAfter)
            return AdmissionDecision.Admit;

        var since = Math.Max(0, Admitted - reading.AdmittedBefore) + Interlocked.Read(ref _pending);
        var decision = Judge(reading.Estimate, since);
        if (decision.Refused)
            _refused.Add(1, new KeyValuePair<string, object?>("reason", decision.Reason));
        return decision;
    }

    /// <summary>The refresher's view, for its log line: is the door shut at this reading, before anyone else arrives?</summary>
    public AdmissionDecision Judge(QrWaitEstimate estimate, long admittedSince = 0)
    {
        var waiting = estimate.Backlog + admittedSince;
        var wait = estimate.WaitFor(admittedSince);
        var overBacklog = waiting >= _options.MaxBacklog;
        if (wait <= _options.MaxQrWait && !overBacklog)
            return AdmissionDecision.Admit with { EstimatedWait = wait, Waiting = waiting };

        // Until enough of the backlog has drained: the wait beyond the limit, or the orders beyond the cap at the
        // current rate. A backlog without progress (Quiet) grows the answer with the stall: short while it may be a
        // hiccup, longer once it is an outage.
        var excess = (wait - _options.MaxQrWait).TotalSeconds;
        if (overBacklog && estimate.QrPerSecond is double rate and > 0)
            excess = Math.Max(excess, (waiting - _options.MaxBacklog + 1) / rate);
        var retryAfter = (int)Math.Clamp(Math.Ceiling(excess), MinRetryAfter, MaxRetryAfter);
        return new AdmissionDecision(true, overBacklog ? "backlog" : "wait", wait, waiting, retryAfter);
    }

    QrWaitEstimate? Current() => _options.Enabled ? Volatile.Read(ref _reading)?.Estimate : null;
}

/// <param name="Reason"><c>wait</c> (estimated QR wait over <c>Admission:MaxQrWait</c>) or <c>backlog</c> (at <c>Admission:MaxBacklog</c>).</param>
public sealed record AdmissionDecision(bool Refused, string Reason, TimeSpan EstimatedWait, long Waiting, int RetryAfterSeconds)
{
    public static readonly AdmissionDecision Admit = new(false, "", TimeSpan.Zero, 0, 0);
}
