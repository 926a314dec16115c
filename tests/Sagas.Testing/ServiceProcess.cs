using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sagas.Testing;

/// <summary>
/// One of the system's services started as a real process (<c>dotnet Sagas.X.dll</c>), the way
/// <c>make run</c> starts it: its own environment, its output kept for failure messages, stopped with
/// SIGTERM (or killed with SIGKILL when a test simulates a crash).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly ConcurrentQueue<string> _output = new();
    readonly Dictionary<string, string> _environment;
    Process? _process;

    public ServiceProcess(string project, int port, IDictionary<string, string> environment)
    {
        Project = project;
        Port = port;
        // Development unless the caller says otherwise (a test of what Production does).
        _environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
        };
        foreach (var (key, value) in environment)
            _environment[key] = value;
        ServiceEnvironment.UseOwnRole(project, _environment);
        _environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        // Also as plain configuration: it outranks a "Urls" in the service's appsettings.json.
        _environment["Urls"] = BaseAddress.ToString().TrimEnd('/');
    }

    public string Project { get; }
    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");
    public string Output => string.Join(Environment.NewLine, _output.TakeLast(80));

    /// <summary>Everything kept of the output: the last 2,000 lines.</summary>
    public string FullOutput => string.Join(Environment.NewLine, _output);
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The pid of the running process (null when it is not running).</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Start()
    {
        var dll = RepositoryLayout.ServiceDll(Project);
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is not built; build the solution first", dll);

        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in _environment)
            info.Environment[key] = value;

        // Published only once started: IsRunning on a Process that was never started throws, and a restart
        // (after KillAsync) must not expose one to other threads asking meanwhile.
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Waits until <paramref name="path"/> answers 200; fails early with the output if the process dies.</summary>
    public async Task WaitUntilReadyAsync(string path = "/health/ready", TimeSpan? timeout = null)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        // Two minutes: a service starting on a 2-core machine busy with the rest of the suite is slow, not broken.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_process is null || _process.HasExited)
                throw new InvalidOperationException($"{Project} exited with {_process?.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var response = await client.GetAsync(path);
                if (response.IsSuccessStatusCode)
                    return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Project} was not ready at {path} in time (last: {last}):\n{Output}");
    }

    /// <summary>The exit code once the process has ended by itself; null if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> ExitCodeAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"{Project} was never started");
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: no shutdown hooks run, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Sends a signal by name (<c>STOP</c>, <c>CONT</c>, …), e.g. to freeze the process as a paused VM would.</summary>
    public void Signal(string signal)
    {
        if (_process is { HasExited: false } process)
            SendSignal(process.Id, signal);
    }

    /// <summary>SIGTERM and a graceful shutdown; SIGKILL if it takes longer than the grace period.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process is not { HasExited: false })
            return;
        SendSignal(_process.Id, "TERM");
        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }

    /// <summary>Raised for every line the process writes (stdout and stderr), on a reader thread.</summary>
    public event Action<string>? LineWritten;

    void Keep(string? line)
    {
        if (line is null)
            return;
        LineWritten?.Invoke(line);
        _output.Enqueue(line);
        while (_output.Count > 2000)
            _output.TryDequeue(out _);
    }

    static void SendSignal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString()]) { UseShellExecute = false });
        kill?.WaitForExit();
    }
}
