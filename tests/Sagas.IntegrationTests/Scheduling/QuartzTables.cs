using Npgsql;
using Sagas.Messaging.Scheduling;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>Reads what Quartz keeps in the <c>quartz</c> schema, to see timers stored, fired and removed.</summary>
public sealed class QuartzTables(string connectionString)
{
    public record Execution(string InstanceName, bool Succeeded, DateTimeOffset FiredAt);

    public Task<bool> JobExists(Guid tokenId) => Scalar<bool>(
        "SELECT EXISTS (SELECT 1 FROM quartz.qrtz_job_details WHERE job_name = $1 AND job_group = $2)",
        MessageSchedulerKeys.Job(tokenId).Name, MessageSchedulerKeys.Group);

    /// <summary>Quartz's own record of each time the job ran (execution history is on in these tests).</summary>
    public async Task<IReadOnlyList<Execution>> Executions(Guid tokenId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT instance_name, succeeded, fired_time FROM quartz.qrtz_execution_history
            WHERE job_name = $1 AND job_group = $2 ORDER BY fired_time
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = MessageSchedulerKeys.Job(tokenId).Name });
        command.Parameters.Add(new NpgsqlParameter { Value = MessageSchedulerKeys.Group });
        await using var reader = await command.ExecuteReaderAsync();
        var executions = new List<Execution>();
        while (await reader.ReadAsync())
        {
            // fired_time is stored in .NET ticks (UTC).
            executions.Add(new Execution(reader.GetString(0), reader.GetBoolean(1),
                new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero)));
        }

        return executions;
    }

    public async Task<IReadOnlyList<string>> ClusterNodes()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT instance_name FROM quartz.qrtz_scheduler_state ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var nodes = new List<string>();
        while (await reader.ReadAsync())
            nodes.Add(reader.GetString(0));
        return nodes;
    }

    async Task<T> Scalar<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
