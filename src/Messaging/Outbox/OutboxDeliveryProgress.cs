using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// What this process's bus outbox delivery service has achieved lately: when it last made progress (sent a message,
/// or found nothing left to send), whether messages are waiting on it, and, per destination, how long sends have
/// kept timing out while the bus said it was connected. Readiness reads the first two, the bus recycler the last.
/// </summary>
public sealed class OutboxDeliveryProgress(TimeProvider? clock = null)
{
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly object _lock = new();
    // Running passes, each with whether another pass ran beside it at some point.
    readonly Dictionary<long, bool> _passes = [];
    readonly Dictionary<Uri, TimeoutStreak> _timeouts = [];
    long _nextPass;
    long _lastProgress = (clock ?? TimeProvider.System).GetTimestamp();
    bool _waiting;

    /// <summary>Consecutive sends to one destination that timed out while the bus reported being connected.</summary>
    public readonly record struct TimeoutStreak(Uri Destination, long Since, int Count);

    /// <summary>
    /// How long delivery has made no progress while messages wait on it (a pass is running, or the last one left
    /// messages unsent); null while it is idle or progressing.
    /// </summary>
    public TimeSpan? StalledFor
    {
        get
        {
            lock (_lock)
            {
                if (!_waiting && _passes.Count == 0)
                    return null;
                return _clock.GetElapsedTime(_lastProgress);
            }
        }
    }

    /// <summary>The destination whose sends have been timing out the longest, if any.</summary>
    public (Uri Destination, TimeSpan For, int Count)? LongestTimeoutStreak
    {
        get
        {
            lock (_lock)
            {
                if (_timeouts.Count == 0)
                    return null;
                var oldest = _timeouts.Values.MinBy(x => x.Since);
                return (oldest.Destination, _clock.GetElapsedTime(oldest.Since), oldest.Count);
            }
        }
    }

    internal long PassStarted()
    {
        lock (_lock)
        {
            // Work arriving after an idle spell: the clock starts now, not at the last idle pass.
            if (!_waiting && _passes.Count == 0)
                _lastProgress = _clock.GetTimestamp();
            var pass = ++_nextPass;
            foreach (var running in _passes.Keys.ToList())
                _passes[running] = true;
            _passes[pass] = _passes.Count > 0;
            return pass;
        }
    }

    /// <summary>
    /// A pass ended; it claimed outboxes (<paramref name="claimed"/>), and <paramref name="unsent"/> of their messages are
    /// still waiting.
    /// </summary>
    internal void PassEnded(long pass, bool claimed, int unsent)
    {
        lock (_lock)
        {
            _passes.Remove(pass, out var besideAnother);
            // A pass that claimed nothing proves nothing is waiting only if no other pass held outboxes meanwhile: claims
            // skip locked rows. Taken as progress, another loop's empty pass used to reset the stall clock every few
            // seconds while the first loop's sends were failing, and readiness stayed 200 through a broker outage.
            if (!claimed && besideAnother)
                return;
            _waiting = unsent > 0;
            if (!_waiting)
                _lastProgress = _clock.GetTimestamp();
        }
    }

    internal void Sent(Uri destination)
    {
        lock (_lock)
        {
            _lastProgress = _clock.GetTimestamp();
            _timeouts.Remove(destination);
        }
    }

    /// <summary>
    /// A send timed out (or was abandoned). Only timeouts while the bus says it is connected make a streak: while the
    /// broker is away timeouts are expected, and MassTransit reconnects by itself.
    /// </summary>
    internal void TimedOut(Uri destination, bool busConnected)
    {
        lock (_lock)
        {
            if (!busConnected)
            {
                _timeouts.Remove(destination);
                return;
            }

            _timeouts[destination] = _timeouts.TryGetValue(destination, out var streak)
                ? streak with { Count = streak.Count + 1 }
                : new TimeoutStreak(destination, _clock.GetTimestamp(), 1);
        }
    }

    /// <summary>A send failed otherwise (e.g. no connection): that says nothing about a stuck channel.</summary>
    internal void Failed(Uri destination)
    {
        lock (_lock)
            _timeouts.Remove(destination);
    }

    internal void ForgetTimeouts()
    {
        lock (_lock)
            _timeouts.Clear();
    }
}

/// <summary>
/// Unhealthy when this process's bus outbox delivery has made no progress for longer than the threshold while
/// messages wait on it: the broker has been away that long, or delivery is stuck. Either way the process cannot do
/// what it accepts requests for, so it should leave the load balancer's rotation.
/// </summary>
public sealed class OutboxDeliveryHealthCheck(OutboxDeliveryProgress? progress, TimeSpan threshold) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (progress?.StalledFor is not { } stalled)
            return Task.FromResult(HealthCheckResult.Healthy("delivering"));
        var data = new Dictionary<string, object> { ["stalledSeconds"] = Math.Round(stalled.TotalSeconds, 1) };
        return Task.FromResult(stalled > threshold
            ? new HealthCheckResult(context.Registration.FailureStatus,
                $"bus outbox delivery has made no progress for {stalled.TotalSeconds:0} s while messages wait", data: data)
            : HealthCheckResult.Healthy("delivering", data));
    }
}
