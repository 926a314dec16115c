namespace Sagas.EndToEndTests.Hosting;

/// <summary>
/// The services as <c>make run</c> starts them: on a fresh database, Api and Workers start at the same
/// moment (both migrate, under one advisory lock), become ready, and stop cleanly on SIGTERM.
/// </summary>
public sealed class ServicesStartAndStopTests() : WithOwnDatabaseAndVirtualHost("hosting")
{
    [Fact]
    public async Task Api_and_workers_started_together_on_a_freshDatabase_become_ready_and_stop_on_sigterm()
    {
        var environment = ServiceEnvironment.For(Database, VirtualHost);
        await using var api = new ServiceProcess("Api", ServiceProcess.FreePort(), environment);
        await using var workers = new ServiceProcess("Workers", ServiceProcess.FreePort(), environment);

        api.Start();
        workers.Start();
        await Task.WhenAll(api.WaitUntilReadyAsync(), workers.WaitUntilReadyAsync());

        foreach (var service in new[] { api, workers })
        {
            var checks = await ReadyChecks(service);
            Assert.Equal("Healthy", checks["postgres"]);
            Assert.Equal("Healthy", checks["migrations"]);
            Assert.Equal("Healthy", checks["masstransit-bus"]);
        }

        await Task.WhenAll(api.StopAsync(TimeSpan.FromSeconds(20)), workers.StopAsync(TimeSpan.FromSeconds(20)));
        Assert.False(api.IsRunning, api.Output);
        Assert.False(workers.IsRunning, workers.Output);
        Assert.Contains("Application is shutting down", api.FullOutput);
        Assert.Contains("Application is shutting down", workers.FullOutput);
    }

    [Fact]
    public async Task Readiness_fails_and_names_theDatabase_when_postgres_is_unreachable()
    {
        var environment = ServiceEnvironment.For(Database, VirtualHost);
        await using var api = new ServiceProcess("Api", ServiceProcess.FreePort(), environment);
        api.Start();
        await api.WaitUntilReadyAsync();

        // Dropping the database (connections are terminated) makes PostgreSQL unreachable for this Api.
        await Database.DisposeAsync();

        using var client = new HttpClient { BaseAddress = api.BaseAddress };
        var response = await Eventually.Until(() => client.GetAsync("/health/ready"),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"postgres\"", body);
        Assert.DoesNotContain("Exception", body);

        // A request that needs the database is a 503 problem with Retry-After, never a 500.
        client.DefaultRequestHeaders.Add("X-Api-Key", "dev-storefront-key"); // the Development settings' key
        var read = await client.GetAsync("/items/ANY-1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        Assert.Equal("application/problem+json", read.Content.Headers.ContentType?.MediaType);
        Assert.True(read.Headers.RetryAfter is not null);

        Database = await TemporaryDatabase.CreateAsync("hosting");
    }

    static async Task<Dictionary<string, string>> ReadyChecks(ServiceProcess service)
    {
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        using var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString()!);
    }
}
