using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sagas.Testing;

/// <summary>
/// A streaming standby of the shared PostgreSQL cluster for one test (<c>scripts/infra.sh pg-standby</c>: pg_basebackup -R
/// into <c>.local/pg-standby</c>, a few seconds), whose replay the test can pause to hold the standby's view back while
/// the primary moves on. Disposing stops and deletes it; should the test process be killed first, <c>scripts/infra.sh
/// down</c> does. One at a time per checkout (the folder is fixed).
/// </summary>
public sealed class PostgresStandby : IAsyncDisposable
{
    PostgresStandby(int port) => Port = port;

    public int Port { get; }

    public static async Task<PostgresStandby> StartAsync()
    {
        // Below Linux's ephemeral range (32768+): a port an outgoing connection holds in TIME-WAIT cannot be bound.
        var standby = new PostgresStandby(PickFreePort(20000, 22999));
        await standby.Script("up");
        return standby;
    }

    /// <summary>
    /// A connection string the Api would get for reads in production: both servers, the standby preferred (Npgsql falls
    /// back to the primary only when no standby answers).
    /// </summary>
    public string ReadOnlyConnectionString(TemporaryDatabase database)
    {
        var settings = database.Settings;
        return $"Host={settings.PgHost}:{Port},{settings.PgHost}:{settings.PgPort};Database={database.Name};" +
               $"Username={settings.PgApiUser};Password={settings.PgApiPassword};Target Session Attributes=prefer-standby";
    }

    /// <summary><c>pg_wal_replay_pause()</c>: the standby keeps receiving WAL and answering reads, from the data it had.</summary>
    public Task PauseReplayAsync() => Script("pause");

    public Task ResumeReplayAsync() => Script("resume");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Script("down");
        }
        catch (Exception exception)
        {
            // Never hide the test's own outcome; scripts/infra.sh down stops what is left.
            Console.Error.WriteLine($"stopping the test standby failed: {exception.Message}");
        }
    }

    async Task Script(string action)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(RepositoryLayout.Root, "scripts", "infra.sh"), "pg-standby", action]);
        info.Environment["SAGAS_PG_STANDBY_PORT"] = Port.ToString();
        var (exitCode, output) = await ProcessRun.ToExitAsync(info, TimeSpan.FromMinutes(3));
        if (exitCode != 0)
            throw new InvalidOperationException($"scripts/infra.sh pg-standby {action} exited with {exitCode}:\n{output}");
    }

    static int PickFreePort(int from, int to)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(from, to);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException($"no free port between {from} and {to}");
    }
}
