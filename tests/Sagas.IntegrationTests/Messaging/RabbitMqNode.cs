using System.Diagnostics;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// Stops and starts the RabbitMQ application of the shared node (the Erlang node stays up). Other developers use
/// this node: callers keep the window short and always start it again in a finally block.
/// </summary>
static class RabbitMqNode
{
    static string Ctl => Environment.GetEnvironmentVariable("SAGAS_RABBITMQCTL") is { Length: > 0 } path ? path : "/usr/sbin/rabbitmqctl";
    static string Node => Environment.GetEnvironmentVariable("SAGAS_RABBIT_NODE") is { Length: > 0 } node ? node : "rabbit@localhost";

    public static Task StopApp() => Run("stop_app");

    public static Task StartApp() => Run("start_app");

    static async Task Run(string command)
    {
        using var process = Process.Start(new ProcessStartInfo(Ctl, ["-n", Node, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl {command} exited {process.ExitCode}: {await output}{await error}");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerOutageCollection
{
    /// <summary>Runs alone: stopping the broker would break the other classes' buses.</summary>
    public const string Name = "broker outage";
}
