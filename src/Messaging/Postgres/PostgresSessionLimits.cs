using System.Globalization;
using Npgsql;

namespace Sagas.Messaging.Postgres;

/// <summary>
/// How long PostgreSQL lets a process that stopped answering keep what it holds (the <c>Postgres</c> configuration
/// section). A process frozen (SIGSTOP, a paused VM) or cut off in the middle of a transaction keeps its row locks
/// (inbox entry, saga row, stock items, claimed outboxes) until the server ends the session; without a bound that is
/// the kernel's TCP keepalive, two hours, and meanwhile every redelivery and every other message touching those rows
/// waits on them until its retries are used up.
/// <para>
/// The bounds travel in the connection string's <c>Options</c>: each session sets them at start-up, with no extra
/// round trip, no superuser and nothing in the database's or role's settings (so a test host can scale them down
/// and an operator's psql session is not cut).
/// </para>
/// </summary>
public sealed class PostgresSessionLimits
{
    public const string Section = "Postgres";

    /// <summary>
    /// <c>idle_in_transaction_session_timeout</c>: the server ends a session that has sat this long inside a transaction
    /// without sending a statement, which rolls the transaction back and frees its locks. It must stay above the
    /// longest legitimate gap between two statements of one transaction: a consumer's provider calls (two calls of up
    /// to about 21 s each, retries included, for a cancel) and a delivery pass's sends (15 s at most). Zero: no bound.
    /// </summary>
    public TimeSpan IdleInTransactionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// TCP keepalive on both ends of every connection: after this much silence the server (<c>tcp_keepalives_idle</c>)
    /// and Npgsql probe the peer every <see cref="KeepAliveInterval"/>, so a peer that vanished (network cut, VM gone)
    /// is noticed in about a minute instead of two hours. A SIGSTOPped process's kernel still answers the probes: only
    /// <see cref="IdleInTransactionTimeout"/> ends its transactions. Zero: the operating system's settings.
    /// </summary>
    public TimeSpan KeepAliveIdle { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Unanswered probes after which the server drops the connection (<c>tcp_keepalives_count</c>).</summary>
    public int KeepAliveCount { get; set; } = 3;

    public IEnumerable<string> Problems()
    {
        if (IdleInTransactionTimeout < TimeSpan.Zero)
            yield return "Postgres:IdleInTransactionTimeout must not be negative (zero: no bound)";
        if (KeepAliveIdle < TimeSpan.Zero || KeepAliveInterval < TimeSpan.Zero)
            yield return "Postgres:KeepAliveIdle and Postgres:KeepAliveInterval must not be negative (zero: the operating system's settings)";
        if (KeepAliveCount < 0)
            yield return "Postgres:KeepAliveCount must not be negative";
    }

    /// <summary><paramref name="connectionString"/> with these limits; a setting it already carries is kept.</summary>
    public string Apply(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Apply(builder);
        return builder.ConnectionString;
    }

    public void Apply(NpgsqlConnectionStringBuilder builder)
    {
        var options = builder.Options ?? "";
        void Set(string name, long value)
        {
            if (!options.Contains(name, StringComparison.OrdinalIgnoreCase))
                options += string.Create(CultureInfo.InvariantCulture, $" -c {name}={value}");
        }

        if (IdleInTransactionTimeout > TimeSpan.Zero)
            Set("idle_in_transaction_session_timeout", (long)IdleInTransactionTimeout.TotalMilliseconds);

        if (KeepAliveIdle > TimeSpan.Zero)
        {
            Set("tcp_keepalives_idle", Seconds(KeepAliveIdle));
            Set("tcp_keepalives_interval", Seconds(KeepAliveInterval));
            Set("tcp_keepalives_count", KeepAliveCount);
            if (!builder.TcpKeepAlive && builder.TcpKeepAliveTime == 0)
            {
                builder.TcpKeepAliveTime = Seconds(KeepAliveIdle);
                builder.TcpKeepAliveInterval = Seconds(KeepAliveInterval);
            }
        }

        builder.Options = options.Trim() is { Length: > 0 } trimmed ? trimmed : null;
    }

    static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));
}
