using Sagas.Api.Orders.Admission;

namespace Sagas.UnitTests.Admission;

/// <summary>The arithmetic behind POST /orders' 503: readings every 250 ms in, an estimated wait for a QR code out.</summary>
public class Estimating_the_qr_wait
{
    static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    // A new estimator with a 5 s window for every test (xunit makes an instance per test), read from T0 on.
    readonly QrWaitEstimator _estimator = new(TimeSpan.FromSeconds(5));
    DateTimeOffset _at = T0;

    /// <summary>Feeds one reading per tick; returns the last estimate.</summary>
    QrWaitEstimate Feed(int ticks, long backlog, long leftPerTick)
    {
        QrWaitEstimate estimate = null!;
        for (var i = 0; i < ticks; i++)
        {
            _at += Tick;
            estimate = _estimator.Add(_at, backlog, leftPerTick);
        }

        return estimate;
    }

    /// <summary>The estimate measured <paramref name="qrPerSecond"/> QR codes a second, so its backlog waits <paramref name="waitSeconds"/>.</summary>
    static void AssertMeasured(QrWaitEstimate estimate, double qrPerSecond, double waitSeconds)
    {
        Assert.Equal(qrPerSecond, estimate.QrPerSecond!.Value, 3);
        Assert.Equal(waitSeconds, estimate.WaitFor(0).TotalSeconds, 3);
    }

    [Fact]
    public void An_empty_backlog_means_no_wait()
    {
        var estimate = Feed(8, backlog: 0, leftPerTick: 0);

        Assert.Equal(TimeSpan.Zero, estimate.WaitFor(0));
    }

    [Fact]
    public void The_wait_is_the_backlog_over_the_rate_orders_left_it()
    {
        // 25 orders every 250 ms leave a backlog of 300: 100 QR codes a second, three seconds' work.
        var estimate = Feed(40, backlog: 300, leftPerTick: 25);

        AssertMeasured(estimate, qrPerSecond: 100, waitSeconds: 3.0);
        Assert.Equal(4.0, estimate.WaitFor(100).TotalSeconds, 3);
    }

    [Fact]
    public void A_backlog_that_nobody_takes_waits_as_long_as_it_has_gone_without_progress()
    {
        Feed(8, backlog: 10, leftPerTick: 10);
        // The Workers stop: ten orders wait, none leaves for three seconds.
        var estimate = Feed(12, backlog: 10, leftPerTick: 0);

        Assert.Equal(3.0, estimate.Quiet.TotalSeconds, 3);
        Assert.True(estimate.WaitFor(0) >= TimeSpan.FromSeconds(3), estimate.ToString());
    }

    [Fact]
    public void The_first_orders_of_a_burst_are_not_judged_by_the_idle_time_before_it()
    {
        Feed(16, backlog: 0, leftPerTick: 0);
        // Half a second into a burst: nothing has left yet, then 20 a tick (80/s).
        Feed(2, backlog: 60, leftPerTick: 0);
        var estimate = Feed(2, backlog: 100, leftPerTick: 20);

        // Measured over the busy second only (40 in 1 s), not over the 5 s window (40 in 5 s = 8/s).
        AssertMeasured(estimate, qrPerSecond: 40, waitSeconds: 2.5);
    }

    [Fact]
    public void Until_an_order_of_the_spell_gets_its_qr_code_the_door_opens_only_a_little()
    {
        Feed(4, backlog: 0, leftPerTick: 0);
        // Cold or stalled Workers: a quarter of a second into a burst nothing has left yet.
        var estimate = Feed(1, backlog: 40, leftPerTick: 0);

        Assert.Null(estimate.QrPerSecond);
        Assert.Equal(40 / QrWaitEstimate.UnprovenQrPerSecond, estimate.WaitFor(0).TotalSeconds, 3);
    }

    [Fact]
    public void A_rate_older_than_the_window_is_forgotten()
    {
        Feed(20, backlog: 500, leftPerTick: 50);
        var estimate = Feed(20, backlog: 500, leftPerTick: 5);

        AssertMeasured(estimate, qrPerSecond: 20, waitSeconds: 25.0);
    }

    [Fact]
    public void Orders_that_left_the_backlog_are_counted_from_the_same_anchor_twice()
    {
        var anchor = T0;
        // 100 accepted, 90 taken by a worker, 40 of those without a QR code: 50 waiting.
        var previous = new WaitingForQr(anchor, Accepted: 100, TakenSincePrevious: 90, TakenSinceAnchor: 90, WaitingSincePrevious: 40, WaitingSinceAnchor: 40);
        // A quarter of a second later the anchor moved on: 4 done orders fell out of the window, 14 were accepted,
        // 20 more taken and 30 got their QR code; 4 are not taken yet and 30 taken ones wait.
        var now = new WaitingForQr(anchor + Tick, Accepted: 110, TakenSincePrevious: 110, TakenSinceAnchor: 106, WaitingSincePrevious: 30, WaitingSinceAnchor: 30);

        Assert.Equal(30, now.LeftSince(previous));
        Assert.Equal(0, now.LeftSince(null));
        Assert.Equal(4 + 30, now.Backlog);
    }
}
