using Sagas.Observability;

namespace Sagas.Workers.Ordering;

/// <summary>
/// How long the order saga waits, from configuration section <c>Saga</c> (e.g. <c>Saga__PaymentWindow=00:00:10</c>);
/// defaults are the design's. Tests shorten them here, never by sleeping.
/// </summary>
public sealed class SagaTimings
{
    public const string Section = "Saga";

    /// <summary>
    /// How long the customer has to pay, from when the provider creates the QR code. The deadline itself is the
    /// QR's <c>expiresAt</c> as the provider states it.
    /// </summary>
    public TimeSpan PaymentWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long after the QR's deadline the saga still waits for news of a payment before it asks the provider to
    /// withdraw the QR code (the provider's answer, not this delay, decides whether the order expires). Also covers
    /// a QR code created late: no QR code by window + grace after the stock was held, and the order expires.
    /// </summary>
    public TimeSpan PaymentGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The seed's poll period, the customer-visible promise: a payment whose webhook never comes is noticed within this
    /// long (the provider's listing of changed payments is read for every order awaiting payment, see PaymentStatusPoll).
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often that listing is actually read (<c>Saga:PollTick</c>; default a fifth of <see cref="PollInterval"/>).
    /// A tick reports every payment it finds at once, so with one tick per period a busy minute's payments reach the
    /// saga in bursts, and the last of a burst waited the whole period and then the burst ahead of it: measured in
    /// make bench (3,000 customers paying within a minute, webhooks off), paid → saga p99 7.2 s against a 5 s period.
    /// A tick costs one listing call and three statements whatever the number of customers, so reading five times per
    /// period keeps the promise under load for a few milliseconds of CPU per second.
    /// </summary>
    public TimeSpan? PollTick { get; set; }

    /// <summary>The listing's actual period: <see cref="PollTick"/>, else a fifth of <see cref="PollInterval"/>.</summary>
    public TimeSpan ListingPeriod => PollTick ?? PollInterval / 5;

    /// <summary>A non-final order older than this counts as stuck for support.</summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long the saga waits for an answer to a step it asked for (placement, refund, QR withdrawal, stock release)
    /// before asking again; the wait doubles each time, up to <see cref="PendingWorkRetryMax"/>, for as long as it
    /// takes.
    /// </summary>
    public TimeSpan PendingWorkRetry { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan PendingWorkRetryMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// After this many unanswered rounds the order is flagged for support (<c>attention</c>). A step the provider
    /// refuses outright (a 4xx) flags it at once.
    /// </summary>
    public int AttentionAfter { get; set; } = 3;

    /// <summary>Covers holding the stock before the QR code exists and placing the order after its deadline.</summary>
    public static TimeSpan PlacementMargin { get; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a hold lasts when made: it is extended once the QR's deadline is known.</summary>
    public TimeSpan HoldFor => PaymentWindow + HoldAfterDeadline;

    /// <summary>The hold always outlives the QR's deadline by this much.</summary>
    public TimeSpan HoldAfterDeadline => PaymentGrace + PlacementMargin;

    /// <summary>The delay before the <paramref name="attempt"/>-th (0-based) re-issue of pending work.</summary>
    public TimeSpan PendingWorkDelay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(PendingWorkRetryMax.Ticks, PendingWorkRetry.Ticks * (1L << Math.Min(attempt, 20))));

    public IEnumerable<string> Problems()
    {
        if (PaymentWindow <= TimeSpan.Zero)
            yield return "Saga:PaymentWindow must be positive";
        if (PaymentGrace < TimeSpan.Zero)
            yield return "Saga:PaymentGrace must not be negative";
        if (PollInterval <= TimeSpan.Zero)
            yield return "Saga:PollInterval must be positive";
        if (PollTick is { } tick && (tick <= TimeSpan.Zero || tick > PollInterval))
            yield return "Saga:PollTick must be positive and at most Saga:PollInterval";
        if (StuckAfter <= TimeSpan.Zero)
            yield return "Saga:StuckAfter must be positive";
        if (PendingWorkRetry <= TimeSpan.Zero || PendingWorkRetryMax < PendingWorkRetry)
            yield return "Saga:PendingWorkRetry must be positive and at most Saga:PendingWorkRetryMax";
        if (AttentionAfter < 1)
            yield return "Saga:AttentionAfter must be at least 1";
    }
}

public static class SagaTimingsServiceCollectionExtensions
{
    /// <summary>Binds <see cref="SagaTimings"/> from section <c>Saga</c>, checked at start-up.</summary>
    public static IServiceCollection AddSagaTimings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SagaTimings>()
            .Bind(configuration.GetSection(SagaTimings.Section))
            .ValidateProblems(t => t.Problems());
        return services;
    }
}
