using Xunit;

namespace Sagas.Testing;

/// <summary>
/// Base of a test class whose every test gets a database and a RabbitMQ virtual host of its own, created before the
/// test and removed after it: what the services a test starts connect to (<see cref="ServiceEnvironment.For"/>).
/// </summary>
/// <param name="purpose">Part of both names, to tell them apart while a test runs (<c>_</c> in the database's,
/// <c>-</c> in the virtual host's).</param>
public abstract class WithOwnDatabaseAndVirtualHost(string purpose) : IAsyncLifetime
{
    /// <summary>Settable: a test that drops its database (PostgreSQL gone for the services) gives the class a new one to remove.</summary>
    protected TemporaryDatabase Database { get; set; } = null!;

    protected TemporaryVirtualHost VirtualHost { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TemporaryDatabase.CreateAsync(purpose.Replace('-', '_'));
        VirtualHost = await TemporaryVirtualHost.CreateAsync(purpose.Replace('_', '-'));
    }

    public async Task DisposeAsync()
    {
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
    }
}
