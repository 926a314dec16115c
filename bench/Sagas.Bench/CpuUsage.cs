using System.Globalization;

namespace Sagas.Bench;

/// <summary>
/// CPU time of each part of the system under test, read from <c>/proc</c> (user + system time): the Api and
/// Workers processes, the payment sandbox, PostgreSQL (the postmaster, its living backends, and through the
/// postmaster's "children" counters the backends that have already exited), RabbitMQ's Erlang VM, and this
/// program (the load generator). Two samples give the CPU seconds each part spent in between: on a 2-core box
/// that, per order, is where an end-to-end order's time goes.
/// </summary>
public static class CpuUsage
{
    const double TicksPerSecond = 100; // USER_HZ on Linux

    public static Dictionary<string, double> Sample(Stack stack, BenchInfrastructure infrastructure) =>
        new()
        {
            ["Api"] = stack.Apis.Sum(p => Own(p.ProcessId)),
            ["Workers"] = stack.Workers.Sum(p => Own(p.ProcessId)),
            ["payment sandbox"] = Own(stack.Sandbox.ProcessId),
            ["PostgreSQL"] = PostgreSql(Path.Combine(infrastructure.StateDirectory, "pg", "data", "postmaster.pid")),
            ["RabbitMQ"] = ErlangVm(infrastructure.RabbitNode),
            ["load generator (this program)"] = Own(Environment.ProcessId),
        };

    public static Dictionary<string, double> Delta(Dictionary<string, double> before, Dictionary<string, double> after) =>
        after.ToDictionary(kv => kv.Key, kv => Math.Max(0, kv.Value - before.GetValueOrDefault(kv.Key)));

    static double Own(int? pid) => Read(pid) is { } stat ? (stat.UserTicks + stat.SystemTicks) / TicksPerSecond : 0;

    static double PostgreSql(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster))
            return 0;
        if (Read(postmaster) is not { } parent)
            return 0;
        var ticks = parent.UserTicks + parent.SystemTicks + parent.ChildUserTicks + parent.ChildSystemTicks;
        foreach (var child in AllProcesses().Where(p => p.ParentId == postmaster))
            ticks += child.UserTicks + child.SystemTicks;
        return ticks / TicksPerSecond;
    }

    static double ErlangVm(string node)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
                continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(directory, "comm")).StartsWith("beam", StringComparison.Ordinal))
                    continue;
                var environment = File.ReadAllText(Path.Combine(directory, "environ")).Split('\0');
                if (environment.Contains($"RABBITMQ_NODENAME={node}"))
                    return Own(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return 0;
    }

    sealed record Stat(int ParentId, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks);

    static IEnumerable<Stat> AllProcesses()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Read(pid) is { } stat)
                yield return stat;
    }

    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so fields are counted after the ')'.
    static Stat? Read(int? pid)
    {
        if (pid is null)
            return null;
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture); // field 3 is fields[0]
            return new Stat((int)Field(4), Field(14), Field(15), Field(16), Field(17));
        }
        catch (IOException)
        {
            return null;
        }
    }
}
