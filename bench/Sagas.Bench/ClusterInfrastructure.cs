using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>
/// The cluster topology of <c>make cluster</c> (three RabbitMQ nodes with quorum queues, a PostgreSQL primary with a
/// synchronous standby), started for the benchmark's cluster scenarios through <c>scripts/cluster.sh</c> with a state
/// folder (<c>.local/bench-cluster</c>) and ports of its own: RabbitMQ node N on SAGAS_BENCH_CLUSTER_RABBIT_PORT
/// (5711) + N − 1, management on SAGAS_BENCH_CLUSTER_RABBIT_MGMT_PORT (15711) + N − 1, PostgreSQL on
/// SAGAS_BENCH_CLUSTER_PG_PORT (25446) and the next port — none of them <c>make bench</c>'s single-node ports or
/// <c>make cluster</c>'s. Each run starts from empty data and wipes it at the end.
/// </summary>
public sealed partial class ClusterInfrastructure
{
    readonly Dictionary<string, string> _environment;
    readonly string _script = Path.Combine(RepositoryLayout.Root, "scripts", "cluster.sh");
    readonly int _rabbitPort, _managementPort, _pgPort;

    public ClusterInfrastructure(InfrastructureSettings single)
    {
        StateDirectory = Path.Combine(RepositoryLayout.Root, ".local", "bench-cluster");
        _rabbitPort = Env("SAGAS_BENCH_CLUSTER_RABBIT_PORT", 5711);
        _managementPort = Env("SAGAS_BENCH_CLUSTER_RABBIT_MGMT_PORT", 15711);
        _pgPort = Env("SAGAS_BENCH_CLUSTER_PG_PORT", 25446);
        _environment = new Dictionary<string, string>
        {
            ["SAGAS_STATE_DIR"] = StateDirectory,
            ["SAGAS_CLUSTER_RABBIT_PORT"] = _rabbitPort.ToString(CultureInfo.InvariantCulture),
            ["SAGAS_CLUSTER_RABBIT_MGMT_PORT"] = _managementPort.ToString(CultureInfo.InvariantCulture),
            ["SAGAS_CLUSTER_RABBIT_NODE_PREFIX"] = "sagas-bench-cluster",
            ["SAGAS_CLUSTER_PG_PORT"] = _pgPort.ToString(CultureInfo.InvariantCulture),
            ["SAGAS_PG_USER"] = single.PgUser,
            ["SAGAS_PG_PASSWORD"] = single.PgPassword,
            ["SAGAS_RABBIT_USER"] = single.RabbitUser,
            ["SAGAS_RABBIT_PASSWORD"] = single.RabbitPassword,
        };
        Single = single;
    }

    public string StateDirectory { get; }
    InfrastructureSettings Single { get; }

    /// <summary>The node list the services get (RabbitMq__Nodes).</summary>
    public string RabbitNodes => string.Join(',', Enumerable.Range(0, 3).Select(i => $"127.0.0.1:{_rabbitPort + i}"));

    /// <summary>Server 1 or 2, whichever the cluster scripts name the primary now.</summary>
    public int PrimaryNumber => File.Exists(Path.Combine(StateDirectory, "cluster", "pg-primary"))
                                && File.ReadAllText(Path.Combine(StateDirectory, "cluster", "pg-primary")).Trim() == "2" ? 2 : 1;

    /// <summary>The current primary and node 1, as one server: where databases and virtual hosts are created.</summary>
    public InfrastructureSettings Settings => Single with
    {
        PgPort = _pgPort + PrimaryNumber - 1,
        RabbitPort = _rabbitPort,
        RabbitManagementPort = _managementPort,
        RabbitPrometheusPort = _rabbitPort + 10020,
    };

    /// <summary>The same connection, to whichever of the two servers is primary (as <c>make cluster</c> gives the services).</summary>
    public string FollowPrimary(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Host = $"127.0.0.1:{_pgPort},127.0.0.1:{_pgPort + 1}",
        TargetSessionAttributes = "primary",
    }.ConnectionString;

    /// <summary>A service's environment made for the cluster: both PostgreSQL servers, all three RabbitMQ nodes.</summary>
    public void Adapt(IDictionary<string, string> environment)
    {
        foreach (var key in new[] { "ConnectionStrings__Postgres", "ConnectionStrings__Migrations" })
            if (environment.TryGetValue(key, out var value))
                environment[key] = FollowPrimary(value);
        environment["RabbitMq__Nodes"] = RabbitNodes;
    }

    /// <summary>Stops what a previous run left, wipes its data, starts the three nodes and both servers afresh.</summary>
    public async Task UpAsync()
    {
        await DownAsync();
        (await Script(["up"], TimeSpan.FromMinutes(10))).ThrowIfFailed("scripts/cluster.sh up");
    }

    public async Task DownAsync()
    {
        if (Directory.Exists(Path.Combine(StateDirectory, "cluster")))
            await Script(["down"], TimeSpan.FromMinutes(5));
        Wipe();
    }

    /// <summary>The data folders (or the /var/tmp folders their symlinks point to, see scripts/infra/paths.sh) and the state folder.</summary>
    void Wipe()
    {
        var cluster = Path.Combine(StateDirectory, "cluster");
        if (Directory.Exists(cluster))
            foreach (var server in Directory.GetDirectories(cluster))
            foreach (var part in new[] { "pg", "rabbitmq" })
            {
                var link = new DirectoryInfo(Path.Combine(server, part));
                if (link.LinkTarget is { } target)
                    Directory.Delete(Path.GetFullPath(target, server), recursive: true);
            }

        if (Directory.Exists(StateDirectory))
            Directory.Delete(StateDirectory, recursive: true);
    }

    /// <summary>kill -9 of node N; returns when, by the script's clock (UTC), the process was gone.</summary>
    public async Task<DateTimeOffset> KillRabbitAsync(int node) =>
        Moment((await Script(["kill-rabbit", node.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(1)))
            .ThrowIfFailed($"kill-rabbit {node}").Output);

    public async Task StartRabbitAsync(int node) =>
        (await Script(["start-rabbit", node.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(5))).ThrowIfFailed($"start-rabbit {node}");

    /// <summary>
    /// <c>promote-standby</c>: the primary stopped as in a crash, the standby promoted. Returns when the primary was
    /// stopped and how long the promotion took after it (the script's own figure).
    /// </summary>
    public async Task<(DateTimeOffset Stopped, double PromotionSeconds)> PromoteStandbyAsync()
    {
        var output = (await Script(["promote-standby"], TimeSpan.FromMinutes(3))).ThrowIfFailed("promote-standby").Output;
        var took = PromotedAfter().Match(output);
        return (Moment(output), took.Success ? int.Parse(took.Groups[1].Value, CultureInfo.InvariantCulture) / 1000.0 : double.NaN);
    }

    /// <summary>
    /// The node to kill: the one holding most of the virtual host's AMQP connections (the services'), ties broken by the
    /// quorum queue leaders it holds — as the management API of node 1 reports them (it lags by some seconds).
    /// </summary>
    public async Task<(int Node, string Why)> BusiestNodeAsync(string virtualHost)
    {
        using var management = TemporaryVirtualHost.CreateManagementClient(Settings);
        var vhost = Uri.EscapeDataString(virtualHost);
        using var connections = JsonDocument.Parse(await management.GetStringAsync($"vhosts/{vhost}/connections?columns=node"));
        using var queues = JsonDocument.Parse(await management.GetStringAsync($"queues/{vhost}?columns=name,leader,type"));
        int NodeOf(string? name) => name is not null && NodeName().Match(name) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var byConnections = connections.RootElement.EnumerateArray().GroupBy(c => NodeOf(c.GetProperty("node").GetString()))
            .ToDictionary(g => g.Key, g => g.Count());
        var byLeaders = queues.RootElement.EnumerateArray()
            .Where(q => q.TryGetProperty("leader", out _)).GroupBy(q => NodeOf(q.GetProperty("leader").GetString()))
            .ToDictionary(g => g.Key, g => g.Count());
        var node = Enumerable.Range(1, 3).OrderByDescending(n => byConnections.GetValueOrDefault(n))
            .ThenByDescending(n => byLeaders.GetValueOrDefault(n)).First();
        var why = string.Join("; ", Enumerable.Range(1, 3).Select(n =>
            $"node {n}: {byConnections.GetValueOrDefault(n)} connections, {byLeaders.GetValueOrDefault(n)} queue leaders"));
        return (node, why);
    }

    /// <summary>The time a cluster script printed ("... at HH:MM:SS.fff"), today in UTC.</summary>
    static DateTimeOffset Moment(string output)
    {
        var match = ScriptMoment().Match(output);
        if (!match.Success)
            return DateTimeOffset.UtcNow;
        var time = TimeSpan.ParseExact(match.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
        var today = DateTimeOffset.UtcNow;
        var moment = new DateTimeOffset(today.Date, TimeSpan.Zero) + time;
        return moment > today.AddMinutes(1) ? moment.AddDays(-1) : moment;
    }

    Task<Shell.Result> Script(string[] arguments, TimeSpan timeout) =>
        Shell.RunAsync("bash", [_script, .. arguments], _environment, timeout, "    ");

    static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    [GeneratedRegex(@" at (\d\d:\d\d:\d\d\.\d{3})")]
    private static partial Regex ScriptMoment();

    [GeneratedRegex(@"primary, (\d+) ms after the old one was stopped")]
    private static partial Regex PromotedAfter();

    [GeneratedRegex(@"-(\d)@")]
    private static partial Regex NodeName();
}
