using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Sagas.Testing;

/// <summary>A job Prometheus scrapes: one target, at <see cref="MetricsPath"/>.</summary>
public sealed record ScrapeTarget(string Job, string Address, string MetricsPath = "/metrics");

/// <summary>One sample of an instant query: its labels and value.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus (Debian's <c>/usr/bin/prometheus</c>, which <c>make test</c> installs) on a port and a data
/// folder of its own under <c>.local/prometheus</c>, scraping the given targets; read back through its HTTP query API.
/// Stopped and its folder deleted on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";

    readonly Process _process;
    readonly StringBuilder _log = new();
    readonly HttpClient _http;
    readonly string _folder;

    PrometheusServer(Process process, int port, string folder)
    {
        _process = process;
        _folder = folder;
        Address = new Uri($"http://127.0.0.1:{port}/");
        _http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    /// <summary>What Prometheus logged (warnings and errors), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    public static async Task<PrometheusServer> StartAsync(IEnumerable<ScrapeTarget> targets, TimeSpan scrapeInterval)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: `make test` installs it (apt-get install -y prometheus)");
        var folder = Path.Combine(RepositoryLayout.Root, ".local", "prometheus", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, Config(targets, scrapeInterval));

        var port = ServiceProcess.FreePort();
        var info = new ProcessStartInfo(Binary,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        var process = new Process { StartInfo = info };
        var server = new PrometheusServer(process, port, folder);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilReadyAsync();
        return server;
    }

    static string Config(IEnumerable<ScrapeTarget> targets, TimeSpan interval)
    {
        var seconds = $"{interval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s";
        var config = new StringBuilder($"global:\n  scrape_interval: {seconds}\n  scrape_timeout: {seconds}\n  evaluation_interval: {seconds}\nscrape_configs:\n");
        foreach (var target in targets)
            config.Append($"  - job_name: {target.Job}\n    metrics_path: {target.MetricsPath}\n    static_configs:\n      - targets: [\"{target.Address}\"]\n");
        return config.ToString();
    }

    async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var response = await _http.GetAsync("-/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"prometheus was not ready within 60 s:\n{Log}");
    }

    /// <summary>An instant query (<c>GET /api/v1/query</c>): every sample of the resulting vector.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql)
    {
        var answer = await _http.GetFromJsonAsync<JsonElement>($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        if (answer.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"query {promql} failed: {answer}");
        return answer.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(sample => new PrometheusSample(
                sample.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString() ?? ""),
                double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>The value of a query that yields one sample (e.g. a <c>sum(…)</c>); null while it yields none.</summary>
    public async Task<double?> ValueAsync(string promql) =>
        await QueryAsync(promql) is [var only] ? only.Value : null;

    /// <summary>Each job's targets' health as Prometheus last saw it (<c>up</c>, <c>down</c>, <c>unknown</c>) and the last error.</summary>
    public async Task<IReadOnlyDictionary<string, string>> TargetHealthAsync()
    {
        var answer = await _http.GetFromJsonAsync<JsonElement>("api/v1/targets?state=active");
        return answer.GetProperty("data").GetProperty("activeTargets").EnumerateArray().ToDictionary(
            t => t.GetProperty("labels").GetProperty("job").GetString()!,
            t => t.GetProperty("health").GetString() + (t.GetProperty("lastError").GetString() is { Length: > 0 } error ? $" ({error})" : ""));
    }

    void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for `make clean-data`; it is under .local.
        }
    }
}
