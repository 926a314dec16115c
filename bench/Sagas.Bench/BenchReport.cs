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

/// <summary>Rows written per order in one table over the end-to-end phase (pg_stat_user_tables deltas).</summary>
public sealed record TableWrites(string Table, double InsertsPerOrder, double UpdatesPerOrder, double DeletesPerOrder);

/// <summary>Everything a run found; written as docs/benchmarks.json and rendered as docs/benchmarks.md.</summary>
public sealed class BenchReport
{
    public required string Command { get; init; }
    public required string Profile { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public double Seconds { get; set; }
    public Dictionary<string, string> Machine { get; } = new();
    public List<string> LoadAverages { get; } = [];
    public MachineLimits? Limits { get; set; }
    public List<LoadSummary> Loads { get; } = [];
    public Dictionary<string, double> Values { get; } = new();
    public PerOrderCosts? Costs { get; set; }
    public PerOrderCosts? IngestCosts { get; set; }
    public List<TableWrites> TableWrites { get; } = [];
    public List<Figure> Figures { get; } = [];
    public List<Verdict> Verdicts { get; } = [];
    public List<ChartSeries> Series { get; } = [];
    public List<ScenarioNote> Notes { get; } = [];
    public List<string> Charts { get; } = [];

    public bool AllVerdictsPass => Verdicts.Count > 0 && Verdicts.All(v => v.Pass);

    public void Load(string label)
    {
        var text = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        LoadAverages.Add($"{label}: {text}");
    }
}
