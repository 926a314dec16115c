using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Messaging.Migrations;

namespace Sagas.Data;

/// <summary>
/// <c>dotnet Sagas.Api.dll migrate</c>: applies pending migrations and exits, so <c>make run</c> can report a
/// failed migration in one line before any service starts. The services also migrate at start-up.
/// </summary>
public static class MigrateCommand
{
    public static bool IsRequested(string[] args) => args is ["migrate", ..];

    public static async Task<int> RunAsync(IConfiguration configuration)
    {
        try
        {
            var services = new ServiceCollection()
                .AddLogging(logging => logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
                .AddFulfilmentDatabase(configuration);
            await using var provider = services.BuildServiceProvider();
            var applied = await provider.GetRequiredService<SchemaMigrator>().MigrateAsync();
            Console.WriteLine(applied.Count == 0
                ? "migrations: schema is current"
                : $"migrations: applied {applied.Count} ({string.Join(", ", applied)})");
            return 0;
        }
        catch (Exception e) when (e is MigrationException or NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"migration failed: {e.Message}");
            return 1;
        }
    }
}
