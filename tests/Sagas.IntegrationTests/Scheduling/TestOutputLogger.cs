using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>
/// Writes a host's log to the test's output (warnings and up unless SAGAS_TEST_LOG_LEVEL says otherwise) and keeps
/// every message so a test can assert on what a component reported.
/// </summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string prefix) : ILoggerProvider
{
    public static readonly LogLevel OutputLevel =
        Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("SAGAS_TEST_LOG_LEVEL"), true, out var level) ? level : LogLevel.Warning;

    public ConcurrentQueue<string> Messages { get; } = new();

    void Write(LogLevel logLevel, string category, string message, Exception? exception)
    {
        Messages.Enqueue($"{category}: {message}");
        if (logLevel < OutputLevel)
            return;
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} [{prefix}] {logLevel} {category}: {message}{(exception is null ? "" : Environment.NewLine + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has already finished; a late log line from a stopping host has nowhere to go.
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    sealed class Logger(TestOutputLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            provider.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}
