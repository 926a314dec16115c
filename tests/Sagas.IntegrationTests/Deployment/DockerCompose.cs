using System.ComponentModel;
using System.Diagnostics;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// Runs Debian's <c>docker-compose</c> (v1) against the repository's <c>docker-compose.yml</c>. Only
/// commands that need no Docker engine (<c>config</c>) are used, so this works on machines without one.
/// </summary>
static class DockerCompose
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ComposeFile => Path.Combine(RepositoryRoot, "docker-compose.yml");

    public static async Task<ProcessResult> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(ComposeFile);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var commandLine = $"docker-compose -f {ComposeFile} {string.Join(' ', arguments)}";

        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "docker-compose is not installed, so docker-compose.yml cannot be validated. `make test` installs it; " +
                $"by hand: apt-get install -y docker-compose ({e.Message})", e);
        }
        if (process is null)
            throw new InvalidOperationException($"could not start `{commandLine}`");

        using (process)
        {
            var standardOutput = process.StandardOutput.ReadToEndAsync();
            var standardError = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"`{commandLine}` did not finish within {Timeout.TotalSeconds:0} s");
            }
            return new ProcessResult(commandLine, process.ExitCode, await standardOutput, await standardError);
        }
    }

    /// <summary>The folder holding Sagas.sln, found by walking up from the test assembly's folder.</summary>
    static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sagas.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"no folder containing Sagas.sln above {AppContext.BaseDirectory}");
    }
}

sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError);
