using System.Diagnostics;
using System.Text;

namespace Sagas.Bench;

/// <summary>Runs a command to completion, its output captured (and optionally echoed as progress).</summary>
public static class Shell
{
    public sealed record Result(int ExitCode, string Output)
    {
        public Result ThrowIfFailed(string what) => ExitCode == 0
            ? this
            : throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{Tail(Output, 40)}");
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? echoPrefix = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
            info.WorkingDirectory = workingDirectory;
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment)
                info.Environment[key] = value;

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        void Keep(string? line)
        {
            if (line is null)
                return;
            lock (output)
                output.AppendLine(line);
            if (echoPrefix is not null)
                Console.WriteLine($"{echoPrefix}{line}");
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (output)
                return new Result(-1, output + $"\n(timed out after {timeout})");
        }

        process.WaitForExit(); // flushes the asynchronous output readers
        lock (output)
            return new Result(process.ExitCode, output.ToString());
    }

    public static string Tail(string text, int lines) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));
}
