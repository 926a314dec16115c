using Sagas.Messaging.Outbox;

namespace Sagas.UnitTests.Messaging;

/// <summary>
/// What readiness's <c>outbox-delivery</c> check reads: how long delivery has made no progress while messages wait. The
/// delivery service runs two loops; a pass of one that claims nothing because the other holds every due outbox must not
/// count as progress (it did, and the Api stayed ready through a RabbitMQ outage).
/// </summary>
public sealed class Outbox_delivery_progress
{
    readonly Clock _clock = new();

    [Fact]
    public void A_pass_that_claims_nothing_beside_a_failing_one_is_no_progress()
    {
        var progress = new OutboxDeliveryProgress(_clock);
        for (var second = 0; second < 40; second += 4)
        {
            var failing = progress.PassStarted();
            var idle = progress.PassStarted();
            _clock.Advance(TimeSpan.FromSeconds(1));
            progress.PassEnded(idle, claimed: false, unsent: 0);
            _clock.Advance(TimeSpan.FromSeconds(3));
            progress.PassEnded(failing, claimed: true, unsent: 1);
        }

        Assert.Equal(TimeSpan.FromSeconds(40), progress.StalledFor);
    }

    [Fact]
    public void A_pass_that_claims_nothing_on_its_own_means_nothing_waits()
    {
        var progress = new OutboxDeliveryProgress(_clock);
        var failing = progress.PassStarted();
        _clock.Advance(TimeSpan.FromSeconds(5));
        progress.PassEnded(failing, claimed: true, unsent: 1);
        Assert.Equal(TimeSpan.FromSeconds(5), progress.StalledFor);

        var idle = progress.PassStarted();
        progress.PassEnded(idle, claimed: false, unsent: 0);
        Assert.Null(progress.StalledFor);
    }

    [Fact]
    public void Messages_sent_by_either_loop_are_progress()
    {
        var progress = new OutboxDeliveryProgress(_clock);
        var failing = progress.PassStarted();
        var sending = progress.PassStarted();
        _clock.Advance(TimeSpan.FromSeconds(20));
        progress.PassEnded(failing, claimed: true, unsent: 1);
        progress.PassEnded(sending, claimed: true, unsent: 0);
        Assert.Null(progress.StalledFor);
    }

    sealed class Clock : TimeProvider
    {
        long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
