using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sagas.Messaging.Migrations;

namespace Sagas.IntegrationTests.Migrations;

public sealed class SchemaMigratorTests : IAsyncLifetime
{
    TemporaryDatabase _database = null!;
    NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("migrator");
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Processes_starting_together_apply_each_script_exactly_once()
    {
        var source = new FixedScripts(
            new MigrationScript("t/0001.sql", "CREATE TABLE counter (n integer NOT NULL); INSERT INTO counter VALUES (0);"),
            new MigrationScript("t/0002.sql", "UPDATE counter SET n = n + 1;"));

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Migrator(source).MigrateAsync()));

        Assert.Equal(2, results.Sum(applied => applied.Count));
        Assert.Equal(1, await Scalar<int>("SELECT n FROM counter"));
        Assert.Equal(2L, await Scalar<long>("SELECT count(*) FROM public.schema_migrations"));
    }

    [Fact]
    public async Task A_failing_script_leaves_the_schema_at_the_previous_version()
    {
        await Migrator(new FixedScripts(new MigrationScript("t/0001.sql", "CREATE TABLE a (id integer);"))).MigrateAsync();

        var failing = new FixedScripts(
            new MigrationScript("t/0001.sql", "CREATE TABLE a (id integer);"),
            new MigrationScript("t/0002.sql", "CREATE TABLE b (id integer); SELECT no_such_function();"));
        var error = await Assert.ThrowsAsync<MigrationException>(() => Migrator(failing).MigrateAsync());

        Assert.Contains("t/0002.sql", error.Message);
        Assert.False(await Scalar<bool>("SELECT to_regclass('public.b') IS NOT NULL"));
        Assert.Equal(["t/0002.sql"], await Migrator(failing).PendingAsync());
    }

    [Fact]
    public async Task An_applied_script_that_was_edited_is_refused()
    {
        await Migrator(new FixedScripts(new MigrationScript("t/0001.sql", "CREATE TABLE a (id integer);"))).MigrateAsync();

        var edited = new FixedScripts(new MigrationScript("t/0001.sql", "CREATE TABLE a (id bigint);"));
        var error = await Assert.ThrowsAsync<MigrationException>(() => Migrator(edited).MigrateAsync());

        Assert.Contains("changed after it was applied", error.Message);
    }

    SchemaMigrator Migrator(IMigrationSource source) => new(_dataSource, [source], NullLogger<SchemaMigrator>.Instance);

    async Task<T> Scalar<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    sealed class FixedScripts(params MigrationScript[] scripts) : IMigrationSource
    {
        public IEnumerable<MigrationScript> Scripts() => scripts;
    }
}
