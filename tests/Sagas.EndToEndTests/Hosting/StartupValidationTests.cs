using Npgsql;

namespace Sagas.EndToEndTests.Hosting;

/// <summary>
/// Issue 16, "ValidateOnStart for every options class": a service given a setting it cannot work with exits non-zero
/// at start, the problem named with its configuration key, before it listens, migrates or connects. Run as the built
/// services, in Development, where appsettings.Development.json would supply a valid value for everything the test
/// does not override (an empty <c>Webhooks__Secret</c> in the environment wins over the development secret).
/// </summary>
public sealed class StartupValidationTests() : WithOwnDatabaseAndVirtualHost("startup-validation")
{
    [Theory]
    [InlineData("Api", "Webhooks__Secret", "", "Webhooks:Secret is empty")]
    [InlineData("Api", "RateLimiting__AnonymousPerIpBurst", "0", "RateLimiting:AnonymousPerIpBurst must be at least 1")]
    [InlineData("Api", "ApiKeys__a-key-with-a-typo-in-its-role", "storefrnt", "maps to 'storefrnt', which is not a role")]
    [InlineData("Api", "ApiKeys__short-key-1", "storefront", "ApiKeys: a key of 11 characters is shorter than the minimum of 12")]
    [InlineData("Api", "ApiClients__0__Sha256", "the-key-pasted-where-its-digest-belongs", "ApiClients:0:Sha256 must be 64 hexadecimal characters")]
    [InlineData("Api", "ApiClients__0__Role", "storefrnt", "ApiClients:0:Role 'storefrnt' is not a role")]
    [InlineData("Api", "Saga__StuckAfter", "-00:01:00", "Saga:StuckAfter must be positive")]
    [InlineData("Api", "RabbitMq__Host", " ", "RabbitMq:Host is empty")]
    [InlineData("Api", "Postgres__KeepAliveCount", "-1", "Postgres:KeepAliveCount must not be negative")]
    [InlineData("Workers", "PaymentProvider__BaseUrl", "ftp://provider.example/", "PaymentProvider:BaseUrl must be an absolute http or https URL")]
    [InlineData("Workers", "PaymentProvider__BreakDuration", "00:00:00.100", "PaymentProvider:BreakDuration must be from 0.5 s to 1 day")]
    [InlineData("Workers", "Sweeps__ExpiredHoldsInterval", "00:00:00", "Sweeps:ExpiredHoldsInterval")]
    [InlineData("Workers", "Retention__ArchiveAfter", "00:00:00", "Retention:ArchiveAfter must be positive")]
    [InlineData("Workers", "Saga__PaymentWindow", "00:00:00", "Saga:PaymentWindow must be positive")]
    [InlineData("Api", "Metrics__Port", "70000", "Metrics:Port must be from 1 to 65535")]
    [InlineData("Workers", "Metrics__DatabaseRefresh", "-00:00:01", "Metrics:DatabaseRefresh must be from 00:00:00 to 01:00:00")]
    [InlineData("PaymentSandbox", "Demo__ApiUrl", "ftp://api.example/", "Demo:ApiUrl must be an absolute http or https URL")]
    [InlineData("PaymentSandbox", "Demo__StorefrontKey", "short", "Demo:StorefrontKey must be at least 12 characters long")]
    public async Task A_service_with_an_invalid_setting_exits_non_zero_at_start_naming_it(string project, string key, string value, string message)
    {
        var environment = ServiceEnvironment.For(Database, VirtualHost);
        if (project == "PaymentSandbox")
            // Everything else it needs, so that the setting under test is the only thing that can stop it.
            environment["Webhooks__Secret"] = TestApiKeys.WebhookSecret;
        environment[key] = value;
        await using var service = new ServiceProcess(project, ServiceProcess.FreePort(), environment);

        service.Start();
        var exitCode = await service.ExitCodeAsync(TimeSpan.FromSeconds(90));

        Assert.True(exitCode is not null, $"{project} with {key}='{value}' is still running:\n{service.Output}");
        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, service.FullOutput);
        Assert.DoesNotContain("Now listening", service.FullOutput);
        // Neither a plain key (a configuration name) nor what was given as a digest (perhaps the key itself) is shown.
        if (key.StartsWith("ApiKeys__", StringComparison.Ordinal))
            Assert.DoesNotContain(key["ApiKeys__".Length..], service.FullOutput);
        if (key.EndsWith("__Sha256", StringComparison.Ordinal))
            Assert.DoesNotContain(value, service.FullOutput);
        Assert.False(await MigratedAsync(), $"{project} migrated the database before refusing to start");
    }

    async Task<bool> MigratedAsync()
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass('public.schema_migrations') IS NOT NULL", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
