using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sagas.Bench;

/// <summary>Writes a run: Markdown (<see cref="MarkdownReport"/>), JSON and charts.</summary>
public static class ReportWriter
{
    public static async Task WriteAsync(BenchReport report, string markdownPath, string jsonPath, string chartDirectory, string? notesPath)
    {
        var chartLink = Path.GetRelativePath(Path.GetDirectoryName(markdownPath)!, chartDirectory);
        if (report.Series.Count > 0 || report.Loads.Count > 0)
            await WriteChartsAsync(report, chartDirectory);

        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(jsonPath)!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, options));
        await File.WriteAllTextAsync(markdownPath, MarkdownReport.Write(report, chartLink, notesPath));
    }

    static async Task WriteChartsAsync(BenchReport report, string directory)
    {
        var throughput = report.Series.Where(s => s.Chart == "throughput").Select(s => new Charts.Line(s.Label, s.Points)).ToList();
        if (throughput.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "throughput",
                Charts.LineChart("Throughput over time", "seconds into the scenario", "per second", throughput)));

        string[] percentiles = ["p50", "p90", "p95", "p99", "p99.9"];
        var latency = report.Loads.Where(l => l.Ok > 0 && !l.Name.StartsWith("end to end", StringComparison.Ordinal) && !l.Name.StartsWith("burst", StringComparison.Ordinal))
            .Select(l => new Charts.Line(l.Name, [[0, l.P50], [1, l.P90], [2, l.P95], [3, l.P99], [4, l.P999]])).ToList();
        if (latency.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "latency",
                Charts.LineChart("Latency percentiles (from the intended send time)", "percentile", "milliseconds (log scale)", latency,
                    logY: true, xCategories: percentiles)));

        var drain = report.Series.Where(s => s.Chart == "drain").Select(s => new Charts.Line(s.Label, s.Points)).ToList();
        if (drain.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "drain",
                Charts.LineChart($"Burst of {report.Values.GetValueOrDefault("burst.orders"):0} orders: accepted and final over time",
                    "seconds since the first order was sent", "orders", drain)));
    }
}
