using System.ComponentModel;
using System.Diagnostics;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// The alert rules (ops/prometheus/alerts.yml) and the sample Prometheus configuration are checked by Debian's
/// <c>promtool</c>, and every alert is played against the series of alerts.test.yml: that it fires for what it is
/// about and stays quiet for what it is not. `make test` installs promtool (package prometheus); without it these tests
/// fail, never skip.
/// </summary>
public sealed class AlertRulesTests
{
    static readonly string Folder = Path.Combine(RepositoryLayout.Root, "ops", "prometheus");

    [Fact]
    public async Task The_alert_rules_are_valid()
    {
        var (exitCode, output) = await Promtool("check", "rules", "alerts.yml");

        Assert.True(exitCode == 0, $"promtool check rules failed:\n{output}");
    }

    [Fact]
    public async Task The_sample_prometheus_configuration_is_valid_with_its_rules()
    {
        var (exitCode, output) = await Promtool("check", "config", "prometheus.yml");

        Assert.True(exitCode == 0, $"promtool check config failed:\n{output}");
        Assert.Contains("alerts.yml", output);
    }

    [Fact]
    public async Task Every_alert_fires_for_what_it_is_about_and_only_for_that()
    {
        var (exitCode, output) = await Promtool("test", "rules", "alerts.test.yml");

        Assert.True(exitCode == 0, $"promtool test rules failed:\n{output}");
    }

    [Fact]
    public void Every_alert_has_a_runbook_section()
    {
        var rules = File.ReadAllLines(Path.Combine(Folder, "alerts.yml"));
        var runbook = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "docs", "runbook.md"));
        var alerts = rules.Select(l => l.Trim()).Where(l => l.StartsWith("- alert: ", StringComparison.Ordinal)).Select(l => l["- alert: ".Length..]).ToList();

        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            Assert.Contains($"\n## {alert}\n", runbook);
            Assert.Contains($"runbook_url: docs/runbook.md#{alert.ToLowerInvariant()}", string.Join('\n', rules));
        }
    }

    static async Task<(int ExitCode, string Output)> Promtool(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Folder,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"promtool is not installed. `make test` installs it; by hand: apt-get install -y prometheus ({e.Message})", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output + await errors);
        }
    }
}
