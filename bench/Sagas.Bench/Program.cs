// make bench [QUICK=1]   →  scripts/bench.sh  →  dotnet bench/Sagas.Bench/bin/Release/net10.0/Sagas.Bench.dll [--quick]
//
//   --quick        smaller numbers, same scenarios and verdicts (4–5 minutes on a quiet 2-core box); report under .local/bench/report
//   --smoke        the reliability verdicts only, on tiny numbers (what the test suite runs); no timing is judged
//   --output DIR   where the Markdown report goes (default: docs/ for a full run); charts in DIR/benchmarks/
//   --seed N       the random moments of the crash scenarios
//   --keep-infra   leave the benchmark's PostgreSQL and RabbitMQ running afterwards
//   --only NAME    run only the reliability scenarios whose name contains NAME (repeatable; skips the performance run),
//                  e.g. --smoke --only "RabbitMQ" to repeat one fault while chasing a rare failure; --only cluster runs the
//                  two scenarios on the cluster topology (scripts/cluster.sh, .local/bench-cluster), which a plain --smoke skips
//
// Exit code 0 when every reliability verdict passed, 1 when one failed, 2 when the run itself broke.
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using MassTransit;
using Npgsql;
using Sagas.Bench;
using Sagas.Testing;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var quick = args.Contains("--quick") || Environment.GetEnvironmentVariable("QUICK") is { Length: > 0 } q && q != "0";
var smoke = args.Contains("--smoke");
var keepInfra = args.Contains("--keep-infra");
var profile = smoke ? Profile.Smoke : quick ? Profile.Quick : Profile.Full;
var seed = Option("--seed") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next(1, 100_000);
var root = RepositoryLayout.Root;
var outputDirectory = Option("--output") ?? (profile == Profile.Full
    ? Path.Combine(root, "docs")
    : Path.Combine(root, ".local", smoke ? "bench-smoke" : "bench", "report"));

var started = Clock.Now;
Clock.RunStart = started;
void Progress(string message)
{
    var elapsed = TimeSpan.FromSeconds(Clock.Now - started);
    foreach (var line in message.Split('\n'))
        Console.WriteLine($"[{elapsed:mm\\:ss}] {line}");
}

var report = new BenchReport
{
    Command = smoke ? "dotnet Sagas.Bench.dll --smoke" : quick ? "make bench QUICK=1" : "make bench",
    Profile = profile.Name,
    StartedAt = DateTimeOffset.UtcNow,
};
report.PhaseEnded += phase => Progress($"({phase.Label}: {phase.Seconds:0} s)");
report.Begin("start-up");
Progress($"Sagas benchmark, profile {profile.Name}; crash moments seed {seed}");

var infrastructure = BenchInfrastructure.Choose(smoke);
// Interrupted (Ctrl-C, SIGTERM from make or a test timeout): take the services down with us.
Console.CancelKeyPress += (_, _) => Stack.KillAll();
AppDomain.CurrentDomain.ProcessExit += (_, _) => Stack.KillAll();
var exitCode = 0;
try
{
    Progress($"starting the benchmark's own PostgreSQL (port {infrastructure.Settings.PgPort}) and RabbitMQ ({infrastructure.RabbitNode}, port {infrastructure.Settings.RabbitPort})");
    await infrastructure.UpAsync();
    await DescribeMachineAsync();

    var only = args.Select((a, i) => (a, i)).Where(x => x.a == "--only" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToList();
    var reliability = new ReliabilityRun(infrastructure, profile, report, Progress, seed, only);
    if (profile.Performance && only.Count == 0)
    {
        await new PerformanceRun(infrastructure, profile, report, Progress, whileSettling: reliability.StartEarly).RunAsync();
        await new LookingCustomersRun(infrastructure, profile, report, Progress).RunAsync();
        await new OverloadRun(infrastructure, profile, report, Progress).RunAsync();
        await new InstrumentationRun(infrastructure, profile, report, Progress).RunAsync();
    }

    await reliability.RunAsync();
}
catch (Exception e)
{
    Progress($"the benchmark broke: {e}");
    exitCode = 2;
}
finally
{
    if (!keepInfra)
    {
        report.Begin("stopping the infrastructure");
        Progress("stopping the benchmark's PostgreSQL and RabbitMQ");
        await infrastructure.DownAsync();
    }

    report.EndPhase();
    report.Seconds = Clock.Now - started;
}

QualityBarFigures.Compute(report);
var markdown = Path.Combine(outputDirectory, "benchmarks.md");
await ReportWriter.WriteAsync(report, markdown, Path.Combine(outputDirectory, "benchmarks.json"),
    Path.Combine(outputDirectory, "benchmarks"), Path.Combine(root, "bench", "Sagas.Bench", "analysis.md"));

Console.WriteLine();
if (report.Figures.Count > 0)
{
    Console.WriteLine("Quality-bar figures (absolute, and the ratio to the target or the machine's limit):");
    foreach (var f in report.Figures)
        Console.WriteLine($"  {(f.Meets is null ? "    " : f.Meets.Value ? "ok  " : "MISS")} {f.Title}: {f.Value:0.0} {f.Unit}" +
                          (f.Ratio is { } r ? $", ratio {r:0.00} ({f.RatioMeaning}); target {f.Target}" : "") +
                          (f.Note.Length > 0 ? $" — {f.Note}" : ""));
    Console.WriteLine();
}

Console.WriteLine("Time per phase:");
foreach (var phase in report.Phases)
    Console.WriteLine($"  {phase.Seconds,5:0} s  {phase.Label}");
Console.WriteLine();

Console.WriteLine("Reliability verdicts:");
foreach (var v in report.Verdicts)
    Console.WriteLine($"  {(v.Pass ? "PASS" : "FAIL")}  {v.Scenario}: {v.Check} — {v.Detail}");
Console.WriteLine();
Console.WriteLine($"Report: {markdown} (and benchmarks.json, charts in {Path.Combine(outputDirectory, "benchmarks")})");
Console.WriteLine($"Took {report.Seconds / 60:0.0} min.");
if (exitCode == 0 && !report.AllVerdictsPass)
    exitCode = 1;
Console.WriteLine(exitCode switch
{
    0 => "bench: every verdict PASS",
    1 => $"bench: {report.Verdicts.Count(v => !v.Pass)} verdict(s) FAIL",
    _ => "bench: the run broke before it finished (see above)",
});
return exitCode;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

async Task DescribeMachineAsync()
{
    var machine = report.Machine;
    machine["cores (nproc)"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
    machine["memory"] = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal)) is { } mem
        ? $"{long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024.0:0.0} GiB"
        : "n/a";
    machine["CPU"] = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "n/a";
    machine["OS"] = File.Exists("/etc/os-release")
        ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "n/a"
        : "n/a";
    machine["kernel"] = (await Shell.RunAsync("uname", ["-r"])).Output.Trim();
    machine[".NET"] = RuntimeInformation.FrameworkDescription;
    machine["MassTransit"] = typeof(IBus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "n/a";
    await using (var connection = new NpgsqlConnection(infrastructure.ConnectionString("postgres")))
    {
        await connection.OpenAsync();
        machine["PostgreSQL"] = ((string)(await new NpgsqlCommand("SHOW server_version", connection).ExecuteScalarAsync())!).Split(' ')[0]
                                + " (synchronous_commit on, fsync on, shared_buffers 256MB)";
    }

    using var management = TemporaryVirtualHost.CreateManagementClient(infrastructure.Settings);
    using var overview = System.Text.Json.JsonDocument.Parse(await management.GetStringAsync("overview"));
    machine["RabbitMQ"] = $"{overview.RootElement.GetProperty("rabbitmq_version").GetString()} (Erlang {overview.RootElement.GetProperty("erlang_version").GetString()})";
    machine["commit"] = (await Shell.RunAsync("git", ["-C", root, "rev-parse", "--short", "HEAD"])).Output.Trim();
    machine["crash moments seed"] = seed.ToString(CultureInfo.InvariantCulture);
}
