using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sagas.Workers.Ordering;

/// <summary>
/// How long the order saga waits, from configuration section <c>Saga</c> (e.g. <c>Saga__PaymentWindow=00:00:10</c>);
/// defaults are the design's. Tests shorten them here, never by sleeping.
/// </summary>
public sealed class SagaTimings
{
    public const string Section = "Saga";

    /// <summary>How long the customer has to pay once the QR payment is requested.</summary>
    public TimeSpan PaymentWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the provider is asked for the payment's status while we wait.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A non-final order older than this counts as stuck for support.</summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long stock is held for an order, from submission. Unset, it is the payment window plus
    /// <see cref="PlacementMargin"/>, so a payment made in the last second of the window still finds its hold.
    /// Set it shorter than the window only to provoke an expired hold (tests).
    /// </summary>
    public TimeSpan? HoldTtl { get; set; }

    /// <summary>Covers holding the stock before the window starts and placing the order after it ends.</summary>
    public static TimeSpan PlacementMargin { get; } = TimeSpan.FromMinutes(1);

    public TimeSpan EffectiveHoldTtl => HoldTtl ?? PaymentWindow + PlacementMargin;

    public IEnumerable<string> Problems()
    {
        if (PaymentWindow <= TimeSpan.Zero)
            yield return "Saga:PaymentWindow must be positive";
        if (PollInterval <= TimeSpan.Zero)
            yield return "Saga:PollInterval must be positive";
        if (StuckAfter <= TimeSpan.Zero)
            yield return "Saga:StuckAfter must be positive";
        if (HoldTtl <= TimeSpan.Zero)
            yield return "Saga:HoldTtl must be positive when set";
    }
}

public static class SagaTimingsServiceCollectionExtensions
{
    /// <summary>Binds <see cref="SagaTimings"/> from section <c>Saga</c>, checked at start-up, and the one clock.</summary>
    public static IServiceCollection AddSagaTimings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SagaTimings>()
            .Bind(configuration.GetSection(SagaTimings.Section))
            .Validate(t => !t.Problems().Any(), "Saga timings are invalid: every duration must be positive")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
