using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sagas.Testing;

/// <summary>
/// A RabbitMQ node that belongs to one test: its own node name, ports and data folder
/// (<c>.local/test-brokers/&lt;name&gt;</c>), started and stopped whole through <c>scripts/infra.sh rabbit-node</c>, so
/// that a test can stop the broker for as long as it likes while every other test keeps the shared node. Its
/// PostgreSQL settings are the shared cluster's. Disposing stops the node; should the test process be killed first,
/// <c>scripts/infra.sh down</c> (and <c>make stop</c>) stops it.
/// </summary>
public sealed class DedicatedRabbitMqNode : IAsyncDisposable
{
    readonly Dictionary<string, string> _scriptEnvironment;

    DedicatedRabbitMqNode(string stateDirectory, string nodeName, InfrastructureSettings settings)
    {
        StateDirectory = stateDirectory;
        NodeName = nodeName;
        Settings = settings;
        _scriptEnvironment = new Dictionary<string, string>
        {
            ["SAGAS_STATE_DIR"] = stateDirectory,
            ["SAGAS_RABBIT_HOST"] = settings.RabbitHost,
            ["SAGAS_RABBIT_PORT"] = settings.RabbitPort.ToString(),
            ["SAGAS_RABBIT_MGMT_PORT"] = settings.RabbitManagementPort.ToString(),
            ["SAGAS_RABBIT_DIST_PORT"] = (settings.RabbitPort + 20000).ToString(),
            ["SAGAS_RABBIT_PROMETHEUS_PORT"] = settings.RabbitPrometheusPort.ToString(),
            ["SAGAS_RABBIT_NODE"] = nodeName,
            ["SAGAS_RABBIT_USER"] = settings.RabbitUser,
            ["SAGAS_RABBIT_PASSWORD"] = settings.RabbitPassword,
        };
    }

    /// <summary>The shared PostgreSQL, and this node's AMQP and management ports (virtual host <c>/</c> is ours alone).</summary>
    public InfrastructureSettings Settings { get; }

    public string NodeName { get; }
    public string StateDirectory { get; }

    /// <summary>
    /// Starts a fresh node (no queues, no messages) named after <paramref name="name"/>. A node the same test left
    /// running when its process was killed is stopped first, and the folder's previous data removed.
    /// </summary>
    public static async Task<DedicatedRabbitMqNode> StartNewAsync(string name)
    {
        var stateDirectory = Path.Combine(RepositoryLayout.Root, ".local", "test-brokers", name);
        // Below Linux's ephemeral range (32768+), so no outgoing connection holds them; away from the ranges the
        // benchmark's smoke run picks from (AMQP 6000-9999, management 16000-19999), which may run at the same time.
        // The distribution port is AMQP + 20000 and the Prometheus port AMQP + 10020, as scripts/infra.sh has them; the
        // latter is set explicitly, or the shared node's SAGAS_RABBIT_PROMETHEUS_PORT would be inherited and found taken.
        var amqp = PickFreePort(10000, 12700, 20000, 10020);
        var management = PickFreePort(13000, 14999);
        var shared = InfrastructureSettings.FromEnvironment();
        var settings = shared with { RabbitPort = amqp, RabbitManagementPort = management, RabbitPrometheusPort = amqp + 10020 };
        var node = new DedicatedRabbitMqNode(stateDirectory, $"{name}-{amqp}@localhost", settings);

        await node.Script("down");
        DeleteData(stateDirectory);
        await node.StartAsync();
        return node;
    }

    /// <summary>Boots the node again (same data) and returns once it accepts the application user.</summary>
    public Task StartAsync() => Script("up");

    /// <summary>Stops the whole node (<c>rabbitmqctl stop</c>): connections closed, the Erlang VM gone, the ports closed.</summary>
    public Task StopAsync() => Script("down");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception exception)
        {
            // Never hide the test's own outcome; scripts/infra.sh down stops what is left.
            Console.Error.WriteLine($"stopping the test broker {NodeName} failed: {exception.Message}");
        }
    }

    async Task Script(string action)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(RepositoryLayout.Root, "scripts", "infra.sh"), "rabbit-node", action]);
        foreach (var (key, value) in _scriptEnvironment)
            info.Environment[key] = value;

        // Generous: a first start enables plugins offline and boots an Erlang VM, which took over 3 minutes on a fresh
        // clone whose 2 cores ran another suite beside it (load average 50; the start printed nothing before it was killed).
        var (exitCode, output) = await ProcessRun.ToExitAsync(info, TimeSpan.FromMinutes(8));

        // Every start and stop leaves its output beside the node's data, for the post-mortem of a failed run.
        Directory.CreateDirectory(StateDirectory);
        await File.AppendAllTextAsync(Path.Combine(StateDirectory, "script.log"),
            $"--- {DateTime.UtcNow:O} rabbit-node {action}: exit {exitCode}\n{output}");
        if (exitCode != 0)
            throw new InvalidOperationException($"scripts/infra.sh rabbit-node {action} ({NodeName}) exited with {exitCode}:\n{output}");
    }

    /// <summary>The node's files (mnesia, logs, configuration), also where scripts/infra.sh put them outside the checkout.</summary>
    static void DeleteData(string stateDirectory)
    {
        var data = new DirectoryInfo(Path.Combine(stateDirectory, "rabbitmq"));
        if (data.LinkTarget is not null)
        {
            if (data.ResolveLinkTarget(returnFinalTarget: true) is DirectoryInfo { Exists: true } target)
                target.Delete(recursive: true);
            data.Delete();
        }
        else if (data.Exists)
        {
            data.Delete(recursive: true);
        }
    }

    static int PickFreePort(int from, int to, params int[] alsoFreeOffsets)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(from, to);
            if (IsFree(port) && alsoFreeOffsets.All(offset => IsFree(port + offset)))
                return port;
        }

        throw new InvalidOperationException($"no free port between {from} and {to}");
    }

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
}
