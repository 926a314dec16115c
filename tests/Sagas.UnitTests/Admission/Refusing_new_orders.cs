using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sagas.Api.Orders.Admission;

namespace Sagas.UnitTests.Admission;

/// <summary>What POST /orders does with an estimate: admit, or refuse with a Retry-After that says when to come back.</summary>
public class Refusing_new_orders
{
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    static OrderAdmission Admission(TimeProvider clock, bool enabled = true, int maxBacklog = 1_000) =>
        new(Options.Create(new AdmissionOptions { Enabled = enabled, MaxQrWait = TimeSpan.FromSeconds(3), MaxBacklog = maxBacklog }), clock,
            new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    [Fact]
    public void A_wait_within_the_limit_is_admitted_and_one_beyond_it_refused_until_the_excess_has_drained()
    {
        var admission = Admission(new Clock(Now));

        Assert.False(admission.Judge(new QrWaitEstimate(Now, 250, 100, TimeSpan.Zero)).Refused);
        var refused = admission.Judge(new QrWaitEstimate(Now, 750, 100, TimeSpan.Zero));

        Assert.True(refused.Refused);
        Assert.Equal("wait", refused.Reason);
        Assert.Equal(TimeSpan.FromSeconds(7.5), refused.EstimatedWait);
        Assert.Equal(5, refused.RetryAfterSeconds); // 7.5 s − 3 s, rounded up
    }

    [Fact]
    public void Retry_after_stays_between_one_and_thirty_seconds()
    {
        var admission = Admission(new Clock(Now));

        Assert.Equal(1, admission.Judge(new QrWaitEstimate(Now, 301, 100, TimeSpan.Zero)).RetryAfterSeconds);
        Assert.Equal(30, admission.Judge(new QrWaitEstimate(Now, 100_000, 1, TimeSpan.Zero)).RetryAfterSeconds);
        // A stall: nothing left the backlog for 10 s.
        Assert.Equal(7, admission.Judge(new QrWaitEstimate(Now, 5, null, TimeSpan.FromSeconds(10))).RetryAfterSeconds);
    }

    [Fact]
    public void The_backlog_cap_refuses_whatever_the_estimated_wait()
    {
        var admission = Admission(new Clock(Now), maxBacklog: 100);

        var refused = admission.Judge(new QrWaitEstimate(Now, 100, 1_000, TimeSpan.Zero));

        Assert.True(refused.Refused);
        Assert.Equal("backlog", refused.Reason);
    }

    [Fact]
    public void Orders_this_instance_admitted_since_the_reading_count_toward_the_next_decision()
    {
        var admission = Admission(new Clock(Now), maxBacklog: 10);
        admission.Update(new QrWaitEstimate(Now, 7, null, TimeSpan.Zero), admission.Admitted);

        Assert.False(admission.Decide().Refused);
        var onItsWay = admission.Pending(); // admitted, not committed yet
        Assert.False(admission.Decide().Refused);
        using (admission.Pending())
            admission.Committed();
        Assert.False(admission.Decide().Refused);
        admission.Committed();
        Assert.True(admission.Decide().Refused); // 7 + 2 committed + 1 on its way
        onItsWay.Dispose();
        Assert.False(admission.Decide().Refused); // that one failed before its commit
    }

    [Fact]
    public void A_stale_reading_or_admission_turned_off_admits()
    {
        var clock = new Clock(Now);
        var overloaded = new QrWaitEstimate(Now, 5_000, 1, TimeSpan.FromMinutes(1));
        var admission = Admission(clock);
        var off = Admission(clock, enabled: false);
        admission.Update(overloaded, 0);
        off.Update(overloaded, 0);

        Assert.True(admission.Decide().Refused);
        Assert.False(off.Decide().Refused);
        clock.Advance(OrderAdmission.StaleAfter + TimeSpan.FromMilliseconds(1));
        Assert.False(admission.Decide().Refused);
    }

    sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
