using Quartz;
using Sagas.Messaging.Scheduling;

namespace Sagas.UnitTests.Scheduling;

/// <summary>A timer whose send fails is retried by Quartz for as long as it takes, never dropped.</summary>
public sealed class Timer_retries
{
    [Fact]
    public void Should_back_off_to_five_minutes_and_never_run_out()
    {
        var policy = new PostgresMessageSchedulerOptions().FireRetryPolicy;

        Assert.Equal(int.MaxValue, policy.MaxAttempts);
        foreach (var attempt in new[] { 20, 1_000, 1_000_000, int.MaxValue - 1 })
            Assert.InRange(policy.DelayFor(attempt), TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
        // Stored with each trigger: it must read back as the same policy.
        Assert.Equal(policy, RetryPolicy.Parse(policy.ToStoredString()));
    }
}
