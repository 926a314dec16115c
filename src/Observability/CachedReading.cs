using Microsoft.Extensions.Logging;

namespace Sagas.Observability;

/// <summary>
/// A figure read from the database for an observable gauge (orders by state, outbox backlog, overdue timers): read
/// when a scrape asks for it and the last reading is older than <c>maxAge</c>, never more often, so the cost follows
/// the scrape interval and never the traffic. A scrape waits at most <see cref="WaitAtMost"/> for a fresh reading and
/// otherwise reports the previous one; several gauges sharing a reading cost one query.
/// <para>
/// A reading that fails reports nothing (null) until the next one succeeds: Prometheus then sees the series vanish,
/// which an alert can notice, rather than a stale value that looks current.
/// </para>
/// </summary>
public sealed class CachedReading<T>(Func<CancellationToken, Task<T>> read, TimeSpan maxAge, ILogger logger, TimeProvider? clock = null)
    where T : class
{
    /// <summary>How long a scrape waits for a reading it started before reporting the previous one.</summary>
    public static readonly TimeSpan WaitAtMost = TimeSpan.FromSeconds(1);

    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly Lock _lock = new();
    T? _value;
    long? _readAt;
    Task? _reading;

    /// <summary>The latest reading, refreshed first when it is older than the interval; null until one succeeded.</summary>
    public T? Current
    {
        get
        {
            Task reading;
            lock (_lock)
            {
                if (_readAt is { } readAt && _clock.GetElapsedTime(readAt) < maxAge)
                    return _value;
                // Started on the thread pool so that it never completes inside this lock.
                reading = _reading ??= Task.Run(Refresh);
            }

            try
            {
                reading.Wait(WaitAtMost);
            }
            catch (AggregateException)
            {
                // Refresh logs and keeps its own failures; nothing escapes it.
            }

            lock (_lock)
                return _value;
        }
    }

    async Task Refresh()
    {
        T? value = null;
        try
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            value = await read(timeout.Token);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Reading a metric from the database failed; it is not reported until a reading succeeds");
        }
        finally
        {
            lock (_lock)
            {
                _value = value;
                // A failed reading waits out the interval too: a database in trouble is not asked on every scrape.
                _readAt = _clock.GetTimestamp();
                _reading = null;
            }
        }
    }
}
