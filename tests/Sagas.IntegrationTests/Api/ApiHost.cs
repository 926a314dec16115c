extern alias SagasApi;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using ApiProgram = SagasApi::Program;

namespace Sagas.IntegrationTests.Api;

/// <summary>
/// The Api hosted in-process on a database and virtual host of its own, for what only the process itself can show
/// (its endpoint metadata, its policies). Everything observable over HTTP is tested against the real process in
/// tests/Sagas.EndToEndTests/Api.
/// </summary>
public sealed class ApiHost : IAsyncLifetime
{
    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;
    WebApplicationFactory<ApiProgram> _factory = null!;

    public IServiceProvider Services => _factory.Services;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("api_host");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("api-host");
        _factory = new WebApplicationFactory<ApiProgram>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in ServiceEnvironment.For(_database, _virtualHost))
                host.UseSetting(key.Replace("__", ":"), value);
        });
        _ = _factory.Services; // starts the host: migrations, bus
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }
}
