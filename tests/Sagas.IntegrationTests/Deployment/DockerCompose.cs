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

    /// <summary>The committed example of the untracked <c>.env</c> that holds the compose file's secrets.</summary>
    public static string ExampleEnvFile => Path.Combine(RepositoryRoot, ".env.example");

    /// <summary>With the secrets of <see cref="ExampleEnvFile"/> (a developer's own .env is never read).</summary>
    public static Task<ProcessResult> RunAsync(params string[] arguments) => RunWithEnvFileAsync(ExampleEnvFile, arguments);

    /// <summary>
    /// <paramref name="envFile"/> null: no env file at all (an empty one stands in for a .env in the folder) and
    /// none of the secrets' names in the environment (`make test` exports some of them for the tests).
    /// </summary>
    public static async Task<ProcessResult> RunWithEnvFileAsync(string? envFile, params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        string? empty = null;
        if (envFile is null)
        {
            empty = Path.GetTempFileName();
            foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("SAGAS_", StringComparison.Ordinal) || k == "POSTGRES_PASSWORD").ToList())
                start.Environment.Remove(name);
        }

        start.ArgumentList.Add("--env-file");
        start.ArgumentList.Add(envFile ?? empty!);
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(ComposeFile);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var commandLine = $"docker-compose --env-file {envFile ?? empty} -f {ComposeFile} {string.Join(' ', arguments)}";
        try
        {
            return await StartAsync(start, commandLine);
        }
        finally
        {
            if (empty is not null)
                File.Delete(empty);
        }
    }

    static async Task<ProcessResult> StartAsync(ProcessStartInfo start, string commandLine)
    {

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
