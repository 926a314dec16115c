namespace Sagas.Bench;

/// <summary>One quality-bar figure: the absolute value, and its ratio to the target or the machine's limit.</summary>
public sealed record Figure(
    string Key, string Title, double Value, string Unit, string Target, double? Ratio, string RatioMeaning, bool? Meets, string Note = "");

public sealed record ChartSeries(string Chart, string Label, IReadOnlyList<double[]> Points);

public sealed record PerOrderCosts(
    int Orders, double WindowSeconds,
    long Transactions, long Rollbacks, long OwnQueries, double BackgroundTransactionsPerSecond,
    long Publishes, long Deliveries, double BackgroundPublishesPerSecond,
    double TransactionsPerOrder, double TransactionsPerOrderGross,
    double PublishesPerOrder, double DeliveriesPerOrder, double MessagesPerOrder);

public sealed record ScenarioNote(string Scenario, string Text);

/// <summary>One part of the run: when it began (seconds into the run), how long it took, and the machine's load average then.</summary>
public sealed record Phase(string Label, double Start, string LoadAverage)
{
    public double Seconds { get; set; } = double.NaN;
}

/// <summary>Rows written per order in one table over the end-to-end phase (pg_stat_user_tables deltas).</summary>
public sealed record TableWrites(string Table, double InsertsPerOrder, double UpdatesPerOrder, double DeletesPerOrder);

/// <summary>One saga hop on the idle system: its message type, how many were consumed, commit → consume percentiles (ms).</summary>
/// <param name="P50">Sent → consume.</param>
/// <param name="CommitP50">Commit → consume, over the <paramref name="Committed"/> of them that carried their commit's time (0: none did).</param>
public sealed record Hop(string MessageType, double Consumed, double P50, double P99, double Committed = 0, double CommitP50 = double.NaN,
    double CommitP99 = double.NaN);

/// <summary>CPU time one part of the system spent per end-to-end order (user + system, from /proc).</summary>
public sealed record CpuShare(string Part, double MillisecondsPerOrder, double CoresBusy);

/// <summary>Everything a run found; written as docs/benchmarks.json and rendered as docs/benchmarks.md.</summary>
public sealed class BenchReport
{
    public required string Command { get; init; }
    public required string Profile { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public double Seconds { get; set; }
    public Dictionary<string, string> Machine { get; } = new();
    public List<Phase> Phases { get; } = [];
    public MachineLimits? Limits { get; set; }
    public List<LoadSummary> Loads { get; } = [];
    public Dictionary<string, double> Values { get; } = new();
    public PerOrderCosts? Costs { get; set; }
    public PerOrderCosts? IngestCosts { get; set; }
    public List<TableWrites> TableWrites { get; } = [];
    public List<CpuShare> Cpu { get; } = [];
    public List<Hop> Hops { get; } = [];
    public List<Figure> Figures { get; } = [];
    public List<Verdict> Verdicts { get; } = [];
    public List<ChartSeries> Series { get; } = [];
    public List<ScenarioNote> Notes { get; } = [];
    public List<Failover> Failovers { get; } = [];
    public List<string> Charts { get; } = [];

    public bool AllVerdictsPass => Verdicts.Count > 0 && Verdicts.All(v => v.Pass);

    /// <summary>Raised when a phase ends (the next one began, or the run ended), with its duration set.</summary>
    public event Action<Phase>? PhaseEnded;

    /// <summary>Marks the start of a part of the run, which ends the previous one.</summary>
    public void Begin(string label)
    {
        EndPhase();
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        Phases.Add(new Phase(label, Clock.Now - Clock.RunStart, load));
    }

    /// <summary>Ends the last phase: the run is over.</summary>
    public void EndPhase()
    {
        if (Phases.Count == 0 || !double.IsNaN(Phases[^1].Seconds))
            return;
        Phases[^1].Seconds = Clock.Now - Clock.RunStart - Phases[^1].Start;
        PhaseEnded?.Invoke(Phases[^1]);
    }
}
