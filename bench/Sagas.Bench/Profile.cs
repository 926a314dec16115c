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
    /// <summary>How long the idle system's background is counted (after the counters settled), for the per-order costs.</summary>
    public TimeSpan IdleWindow { get; init; } = Counters.Settle;

    /// <summary>Orders sent one at a time on the idle system (<see cref="IdleRun"/>).</summary>
    public int IdleOrders { get; init; }
    public int QrRate { get; init; } = 100;
    public TimeSpan QrDuration { get; init; }
    public TimeSpan E2eWarmUp { get; init; }
    public TimeSpan E2eDuration { get; init; }
    public int E2eWindow { get; init; } = 150;
    public TimeSpan IngestDuration { get; init; }
    public int IngestRate { get; init; } = 500;
    public int IngestMaxConcurrency { get; init; } = 48;
    public int ReadRate { get; init; } = 2500;
    public int BurstOrders { get; init; }
    /// <summary>Orders awaiting payment while nobody pays (<see cref="LookingCustomersRun"/>).</summary>
    public int LookingCustomers { get; init; }
    public int LookingRate { get; init; } = 100;
    /// <summary>How long their CPU is counted once every one of them shows its QR code.</summary>
    public TimeSpan LookingWindow { get; init; }
    /// <summary>Over how long they then pay.</summary>
    public TimeSpan LookingPaySpread { get; init; }

    /// <summary>How long <see cref="OverloadRun"/> offers 3 × the end-to-end rate.</summary>
    public TimeSpan OverloadDuration { get; init; }
    /// <summary>Orders measured on each of the two stacks of <see cref="InstrumentationRun"/> (after a quarter as many to warm up).</summary>
    public int InstrumentationOrders { get; init; }

    public int ReliabilityOrders { get; init; }
    /// <summary>Orders of the scenarios other than the two kill -9 ones and the frozen Workers (which always use <see cref="ReliabilityOrders"/>).</summary>
    public int OtherReliabilityOrders { get; init; }
    public int ReliabilityRate { get; init; }
    public TimeSpan BrokerOutage { get; init; }
    /// <summary>How long one of two Workers stays SIGSTOPped in the "frozen Workers" scenario.</summary>
    public TimeSpan Freeze { get; init; }
    /// <summary>
    /// Configuration of the Workers that is frozen: none in the full run (the services' own bounds, 60 s each); the
    /// shorter runs scale the bounds down with the freeze, so that the freeze still outlasts them.
    /// </summary>
    public IReadOnlyDictionary<string, string> FrozenWorkersSettings { get; init; } = new Dictionary<string, string>();
    public TimeSpan ReliabilityPaymentWindow { get; init; }
    public TimeSpan SettleTimeout { get; init; }
    /// <summary>The whole run's time budget: the burst's drain is cut short to leave the reliability scenarios theirs.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan ReliabilityReserve { get; init; } = TimeSpan.FromMinutes(10);

    public static Profile Full { get; } = new()
    {
        Name = "full",
        PgbenchDuration = TimeSpan.FromSeconds(20),
        RawLoopDuration = TimeSpan.FromSeconds(20),
        OutboxLagMessages = 1000,
        IdleOrders = 100,
        QrDuration = TimeSpan.FromSeconds(10),
        E2eWarmUp = TimeSpan.FromSeconds(15),
        E2eDuration = TimeSpan.FromSeconds(60),
        IngestDuration = TimeSpan.FromSeconds(20),
        BurstOrders = 10_000,
        LookingCustomers = 3000,
        LookingWindow = TimeSpan.FromSeconds(30),
        LookingPaySpread = TimeSpan.FromSeconds(60),
        OverloadDuration = TimeSpan.FromSeconds(60),
        InstrumentationOrders = 600,
        ReliabilityOrders = 1000,
        OtherReliabilityOrders = 500,
        ReliabilityRate = 50,
        BrokerOutage = TimeSpan.FromSeconds(30),
        Freeze = TimeSpan.FromSeconds(60),
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(15),
        SettleTimeout = TimeSpan.FromMinutes(4),
        Budget = TimeSpan.FromMinutes(24),
        ReliabilityReserve = TimeSpan.FromMinutes(10),
    };

    /// <summary>
    /// Minutes rather than twenty: the machine places some 10 orders a second end to end, so the numbers of
    /// orders set most of the time; the limits run as long as the idle background read beside them. The idle
    /// background is counted over a shorter window (it is about 1 transaction a second, a fraction of a
    /// transaction per order either way).
    /// </summary>
    public static Profile Quick { get; } = new()
    {
        Name = "quick",
        PgbenchDuration = TimeSpan.FromSeconds(3),
        RawLoopDuration = TimeSpan.FromSeconds(3),
        OutboxLagMessages = 100,
        IdleWindow = TimeSpan.FromSeconds(5),
        IdleOrders = 10,
        QrDuration = TimeSpan.FromSeconds(1),
        E2eWarmUp = TimeSpan.FromSeconds(6),
        E2eDuration = TimeSpan.FromSeconds(8),
        IngestDuration = TimeSpan.FromSeconds(3),
        BurstOrders = 200,
        LookingCustomers = 300,
        LookingRate = 50,
        LookingWindow = TimeSpan.FromSeconds(10),
        LookingPaySpread = TimeSpan.FromSeconds(10),
        OverloadDuration = TimeSpan.FromSeconds(10),
        InstrumentationOrders = 120,
        ReliabilityOrders = 100,
        OtherReliabilityOrders = 60,
        ReliabilityRate = 40,
        BrokerOutage = TimeSpan.FromSeconds(5),
        Freeze = TimeSpan.FromSeconds(15),
        FrozenWorkersSettings = new Dictionary<string, string>
        {
            ["Postgres__IdleInTransactionTimeout"] = "00:00:05",
            ["RabbitMq__Heartbeat"] = "00:00:03",
        },
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(6),
        SettleTimeout = TimeSpan.FromMinutes(3),
        Budget = TimeSpan.FromMinutes(3),
        ReliabilityReserve = TimeSpan.FromMinutes(2),
    };

    public static Profile Smoke { get; } = Quick with
    {
        Name = "smoke",
        Performance = false,
        BurstOrders = 150,
        ReliabilityOrders = 60,
        OtherReliabilityOrders = 60,
        ReliabilityRate = 30,
        BrokerOutage = TimeSpan.FromSeconds(5),
        ReliabilityPaymentWindow = TimeSpan.FromSeconds(6),
        SettleTimeout = TimeSpan.FromMinutes(2),
    };
}
