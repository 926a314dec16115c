using System.Diagnostics;
using System.Text;

namespace Sagas.Testing;

/// <summary>A program a test runs to its end (a script, the benchmark), with a time limit and its output kept.</summary>
public static class ProcessRun
{
    /// <summary>
    /// Runs <paramref name="info"/> with its input closed, its output and errors kept line by line, until it exits or
    /// <paramref name="limit"/> passes (then its whole process tree is killed); returns its exit code and every line.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> ToExitAsync(ProcessStartInfo info, TimeSpan limit)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        // Without a timeout this also waits for the last lines of the redirected output.
        process.WaitForExit();
        lock (output)
            return (process.ExitCode, output.ToString());

        void Keep(string? line)
        {
            if (line is not null)
                lock (output)
                    output.AppendLine(line);
        }
    }
}
