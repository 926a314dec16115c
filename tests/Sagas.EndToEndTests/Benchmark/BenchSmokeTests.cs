using System.Diagnostics;
using Xunit.Abstractions;

namespace Sagas.EndToEndTests.Benchmark;

/// <summary>
/// Keeps the benchmark instrument from rotting: <c>Sagas.Bench --smoke</c> runs every reliability scenario of
/// <c>make bench</c> (kill -9 of Workers and Api, RabbitMQ stopped, PostgreSQL restarted, a faulty provider,
/// two instances of each, a burst) on tiny numbers, on a PostgreSQL cluster and RabbitMQ node of its own,
/// and must end with every verdict PASS. Only the verdicts are checked — never a timing.
/// </summary>
public sealed class BenchSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_reliability_verdict_of_the_smoke_run_passes()
    {
        var dll = Path.Combine(RepositoryLayout.Root, "bench", "Sagas.Bench", "bin", RepositoryLayout.Configuration, "net10.0", "Sagas.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built; build the solution first");

        // About 4 minutes on a quiet 2-core machine; the margin is for a loaded one (a slow run is not a failed one).
        var (exitCode, text) = await ProcessRun.ToExitAsync(
            new ProcessStartInfo("dotnet", [dll, "--smoke"]) { WorkingDirectory = Path.GetDirectoryName(dll)! }, TimeSpan.FromMinutes(15));

        output.WriteLine(text);
        Assert.True(exitCode == 0, $"Sagas.Bench --smoke exited with {exitCode}:\n{text}");
        Assert.Contains("bench: every verdict PASS", text);
        Assert.DoesNotContain("  FAIL  ", text);
    }
}
