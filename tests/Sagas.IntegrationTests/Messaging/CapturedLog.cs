using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>Keeps what a host logs (from <see cref="MinimumLevel"/> up) so a failing spec can show it.</summary>
public sealed class CapturedLog(LogLevel minimumLevel = LogLevel.Warning) : ILoggerProvider
{
    readonly ConcurrentQueue<string> _lines = new();
    readonly DateTime _started = DateTime.UtcNow;

    public LogLevel MinimumLevel => minimumLevel;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public int Count(string fragment) => _lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= log.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            var first = exception is null ? "" : $" | {exception.GetType().Name}: {exception.Message.Split('\n')[0]}";
            log._lines.Enqueue($"{(DateTime.UtcNow - log._started).TotalSeconds,7:0.00}s {logLevel} {category}: {formatter(state, exception)}{first}");
        }
    }
}
