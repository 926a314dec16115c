using System.Net;
using System.Net.Sockets;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>
/// A PostgreSQL cluster and a RabbitMQ node that belong to the benchmark alone, started through
/// <c>scripts/infra.sh</c> with its state in a folder of its own (<c>SAGAS_STATE_DIR</c>) and ports of its
/// own, so that stopping the broker or restarting the database never touches the servers other people's
/// tests use, and nobody else's traffic lands in the per-order counts.
/// </summary>
public sealed class BenchInfrastructure
{
    readonly Dictionary<string, string> _scriptEnvironment;
    readonly string _script;

    /// <param name="prometheusPort">RabbitMQ's Prometheus port; null: infra.sh's default, the AMQP port + 10020.</param>
    BenchInfrastructure(string stateDirectory, int pgPort, int rabbitPort, int managementPort, string node, int? prometheusPort = null)
    {
        StateDirectory = stateDirectory;
        RabbitNode = node;
        _script = Path.Combine(RepositoryLayout.Root, "scripts", "infra.sh");
        Settings = new InfrastructureSettings("127.0.0.1", pgPort, "sagas", "sagas-dev-password",
            "127.0.0.1", rabbitPort, managementPort, "sagas", "sagas-dev-password");
        _scriptEnvironment = new Dictionary<string, string>
        {
            ["SAGAS_STATE_DIR"] = stateDirectory,
            ["SAGAS_PG_HOST"] = Settings.PgHost,
            ["SAGAS_PG_PORT"] = pgPort.ToString(),
            ["SAGAS_PG_USER"] = Settings.PgUser,
            ["SAGAS_PG_PASSWORD"] = Settings.PgPassword,
            ["SAGAS_PG_DATABASE"] = "sagas",
            ["SAGAS_RABBIT_HOST"] = Settings.RabbitHost,
            ["SAGAS_RABBIT_PORT"] = rabbitPort.ToString(),
            ["SAGAS_RABBIT_MGMT_PORT"] = managementPort.ToString(),
            ["SAGAS_RABBIT_USER"] = Settings.RabbitUser,
            ["SAGAS_RABBIT_PASSWORD"] = Settings.RabbitPassword,
            ["SAGAS_RABBIT_NODE"] = node,
            ["SAGAS_RABBIT_DIST_PORT"] = (rabbitPort + 20000).ToString(),
        };
        if (prometheusPort is { } prometheus)
            _scriptEnvironment["SAGAS_RABBIT_PROMETHEUS_PORT"] = prometheus.ToString();
    }

    public InfrastructureSettings Settings { get; }
    public string StateDirectory { get; }
    public string RabbitNode { get; }

    /// <summary>
    /// <c>make bench</c>: fixed ports below the ephemeral range (a loopback port in TIME-WAIT cannot be
    /// bound), overridable with SAGAS_BENCH_*. The smoke run picks free ports at random, so it can run beside
    /// a <c>make bench</c> or another checkout's test suite on the same machine.
    /// </summary>
    public static BenchInfrastructure Choose(bool smoke)
    {
        var local = Path.Combine(RepositoryLayout.Root, ".local");
        if (!smoke)
            return new BenchInfrastructure(Path.Combine(local, "bench"),
                Env("SAGAS_BENCH_PG_PORT", 25436), Env("SAGAS_BENCH_RABBIT_PORT", 5676),
                Env("SAGAS_BENCH_RABBIT_MGMT_PORT", 15676),
                Environment.GetEnvironmentVariable("SAGAS_BENCH_RABBIT_NODE") is { Length: > 0 } node ? node : "rabbit-bench@localhost");

        var random = new Random();
        int Pick(int from, int to, int alsoFreeOffset = 0)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = random.Next(from, to);
                if (IsFree(port) && (alsoFreeOffset == 0 || IsFree(port + alsoFreeOffset)))
                    return port;
            }

            throw new InvalidOperationException($"no free port between {from} and {to}");
        }

        var rabbit = Pick(6000, 9999, alsoFreeOffset: 20000);
        // RabbitMQ's Prometheus port from a range of its own: the AMQP port + 10020 could be the management port picked.
        return new BenchInfrastructure(Path.Combine(local, "bench-smoke"), Pick(21000, 24999), rabbit,
            Pick(16000, 19999), $"bench-smoke-{rabbit}@localhost", prometheusPort: Pick(12000, 14999));
    }

    public string ConnectionString(string database) => Settings.ConnectionString(database);

    public async Task UpAsync()
    {
        // scripts/bench.sh brings them up while it builds: then there is nothing left to do.
        if (await NotOursAsync() is null)
            return;
        if ((await Script(["up"], echo: true)).ExitCode != 0)
        {
            // A previous run that died may have left our servers up on other ports: stop them and try again.
            await Script(["down"], echo: true);
            (await Script(["up"], echo: true)).ThrowIfFailed("scripts/infra.sh up");
        }

        if (await NotOursAsync() is { } status)
            throw new InvalidOperationException(
                "the benchmark must own its PostgreSQL and RabbitMQ, but scripts/infra.sh status says:\n" + status);
    }

    /// <summary>Null when scripts/infra.sh status finds both servers running, started from our folder and usable; else what it says.</summary>
    async Task<string?> NotOursAsync()
    {
        var status = await Script(["status"], echo: false);
        return status.ExitCode == 0 && status.Output.Split('\n').Count(l => l.Contains("running, ours")) == 2 ? null : status.Output;
    }

    public async Task DownAsync() => await Script(["down"], echo: true);

    public async Task RestartPostgresAsync() => (await Script(["restart-pg"], echo: true)).ThrowIfFailed("restart-pg");

    public Task StopRabbitAppAsync() => RabbitAppAsync("stop");

    public Task StartRabbitAppAsync() => RabbitAppAsync("start");

    /// <summary>
    /// Fault injection, not the system under test: a rabbitmqctl that fails on a loaded machine (a `make test` run beside
    /// another once saw `start` exit 1) is tried again, up to three times, before the run is called broken.
    /// </summary>
    async Task RabbitAppAsync(string action)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await Script(["rabbit-app", action], echo: true);
            if (result.ExitCode == 0 || attempt == 3)
            {
                result.ThrowIfFailed($"rabbit-app {action}");
                return;
            }

            Console.WriteLine($"    (rabbit-app {action} failed with exit code {result.ExitCode}; trying again in 2 s)");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>
    /// A CHECKPOINT, as the cluster's superuser over its socket (the application role may not); the exit code, since a
    /// failed one only makes the next figures less clean.
    /// </summary>
    public async Task<int> CheckpointAsync() =>
        (await Shell.RunAsync("runuser", ["-u", "postgres", "--", "psql", "-h", Path.Combine(StateDirectory, "pg", "run"),
            "-p", Settings.PgPort.ToString(), "-d", "postgres", "-Atqc", "CHECKPOINT"], new Dictionary<string, string>(),
            TimeSpan.FromMinutes(5), null)).ExitCode;

    /// <summary>The PostgreSQL binaries' pgbench, with the application role (CREATEDB, not a superuser).</summary>
    public Dictionary<string, string> PgEnvironment() => new()
    {
        ["PGHOST"] = Settings.PgHost,
        ["PGPORT"] = Settings.PgPort.ToString(),
        ["PGUSER"] = Settings.PgUser,
        ["PGPASSWORD"] = Settings.PgPassword,
    };

    Task<Shell.Result> Script(string[] arguments, bool echo) =>
        Shell.RunAsync("bash", [_script, .. arguments], _scriptEnvironment, TimeSpan.FromMinutes(5),
            echo ? "    " : null);

    static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;
}
