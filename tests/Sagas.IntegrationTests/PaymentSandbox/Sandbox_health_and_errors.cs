namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Sandbox_health_and_errors(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    readonly HttpClient _client = sandbox.Api.Client;

    [Fact]
    public async Task Live_and_ready_answer_200_once_the_schema_exists()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        var ready = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["status"]);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_are_problems()
    {
        await SandboxApi.ProblemAsync(await _client.GetAsync("/no-such-thing"), HttpStatusCode.NotFound);
        await SandboxApi.ProblemAsync(await _client.DeleteAsync("/sandbox/settings"), HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task The_schema_is_created_under_sandbox()
    {
        await using var connection = new Npgsql.NpgsqlConnection(sandbox.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sandbox' ORDER BY 1", connection);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            tables.Add(reader.GetString(0));

        Assert.Equal(["payments", "refunds", "webhook_deliveries"], tables);
    }
}
