namespace Sagas.Bench;

/// <summary>
/// How big and how long each part of a run is. <c>Full</c> is <c>make bench</c>, <c>Quick</c> is
/// <c>make bench QUICK=1</c> (same scenarios and verdicts, smaller numbers), <c>Smoke</c> is what the test
/// suite runs: the reliability verdicts only, on tiny numbers, and no timing is ever judged.
/// </summary>
public sealed record Profile
{
    public required string Name { get; init; }
    public bool Performance { get; init; } = true;

    public TimeSpan PgbenchDuration { get; init; }
    public int PgbenchClients { get; init; } = 8;
    public TimeSpan RawLoopDuration { get; init; }
    public int OutboxLagMessages { get; init; }

    public int QrRate { get; init; } = 100;
    public TimeSpan QrDuration { get; init; }
    public TimeSpan E2eWarmUp { get; init; }
    public TimeSpan E2eDuration { get; init; }
    public int E2eWindow { get; init; } = 400;
    public TimeSpan IngestDuration { get; init; }
    public int IngestRate { get; init; } = 500;
    public int IngestMaxConcurrency { get; init; } = 48;
    public int ReadRate { get; init; } = 2500;
    public int BurstOrders { get; init; }

    public int ReliabilityOrders { get; init; }
    public int ReliabilityRate { get; init; }
    public TimeSpan BrokerOutage { get; init; }
    public TimeSpan ReliabilityPaymentWindow { get; init; }
    public TimeSpan SettleTimeout { get; init; }

    public static Profile Full { get; } = new()
    {
        Name = "full",
        PgbenchDuration = TimeSpan.FromSeconds(20),
        RawLoopDuration = TimeSpan.FromSeconds(20),
        OutboxLagMessages = 1000,
        QrDuration = TimeSpan.FromSeconds(20),
        E2eWarmUp = TimeSpan.FromSeconds(10),
        E2eDuration = TimeSpan.FromSeconds(60),
        IngestDuration = TimeSpan.FromSeconds(20),
        BurstOrders = 10_000,
        ReliabilityOrders = 1000,
        ReliabilityRate = 50,
        BrokerOutage = TimeSpan.FromSeconds(30),
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(15),
        SettleTimeout = TimeSpan.FromMinutes(4),
    };

    public static Profile Quick { get; } = new()
    {
        Name = "quick",
        PgbenchDuration = TimeSpan.FromSeconds(5),
        RawLoopDuration = TimeSpan.FromSeconds(5),
        OutboxLagMessages = 200,
        QrDuration = TimeSpan.FromSeconds(5),
        E2eWarmUp = TimeSpan.FromSeconds(3),
        E2eDuration = TimeSpan.FromSeconds(12),
        IngestDuration = TimeSpan.FromSeconds(5),
        BurstOrders = 1000,
        ReliabilityOrders = 200,
        ReliabilityRate = 40,
        BrokerOutage = TimeSpan.FromSeconds(10),
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(8),
        SettleTimeout = TimeSpan.FromMinutes(3),
    };

    public static Profile Smoke { get; } = Quick with
    {
        Name = "smoke",
        Performance = false,
        BurstOrders = 150,
        ReliabilityOrders = 60,
        ReliabilityRate = 30,
        BrokerOutage = TimeSpan.FromSeconds(5),
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(6),
        SettleTimeout = TimeSpan.FromMinutes(2),
    };
}
