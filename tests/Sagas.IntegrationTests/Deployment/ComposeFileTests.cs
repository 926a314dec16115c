namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// docker-compose.yml cannot be run here (no Docker engine), so it is validated instead: Debian's
/// docker-compose checks it against the compose schema, and the normalized result is checked for what
/// the .NET services need. `make test` installs docker-compose; without it these tests fail, never skip.
/// </summary>
public sealed class ComposeFileTests
{
    static readonly string[] DotNetServices = ["api", "workers", "payment-sandbox"];

    [Fact]
    public async Task Compose_file_passes_docker_compose_validation()
    {
        var result = await DockerCompose.RunAsync("config", "-q");

        Assert.True(result.ExitCode == 0,
            $"`{result.CommandLine}` exited with code {result.ExitCode}:\n{result.StandardError}");
    }

    [Fact]
    public async Task Every_dockerfile_the_compose_file_builds_from_exists()
    {
        var services = await LoadServicesAsync();

        foreach (var name in DotNetServices)
            Assert.True(services.TryGetValue(name, out var service) && service.Dockerfile is not null,
                $"service '{name}' is missing from docker-compose.yml or has no build section");
        foreach (var service in services.Values.Where(s => s.Dockerfile is not null))
        {
            var dockerfile = Path.GetFullPath(Path.Combine(service.BuildContext!, service.Dockerfile!));
            Assert.True(File.Exists(dockerfile), $"service '{service.Name}' builds from {dockerfile}, which does not exist");
        }
    }

    [Fact]
    public async Task Every_dotnet_service_gets_the_postgres_connection_string()
    {
        var services = await LoadServicesAsync();

        foreach (var name in DotNetServices)
        {
            Assert.True(services.TryGetValue(name, out var service), $"service '{name}' is missing from docker-compose.yml");
            Assert.True(service.Environment.ContainsKey("ConnectionStrings__Postgres"),
                $"service '{name}' does not set ConnectionStrings__Postgres; it sets: {string.Join(", ", service.Environment.Keys)}");
        }
    }

    [Fact]
    public async Task Only_the_api_is_published_beyond_loopback()
    {
        var result = await DockerCompose.RunAsync("config");
        Assert.True(result.ExitCode == 0, $"`{result.CommandLine}` exited with code {result.ExitCode}:\n{result.StandardError}");
        var ports = ComposeConfig.PublishedPorts(result.StandardOutput);

        // Read as a sanity check: the parser found the ports the file publishes.
        Assert.Contains(ports, p => p.Service == "rabbitmq" && p.Published == "5672");
        Assert.Contains(ports, p => p.Service == "payment-sandbox" && p.Published == "5090");
        var exposed = ports.Where(p => p.HostAddress is not ("127.0.0.1" or "::1")).ToList();
        Assert.True(exposed.All(p => p.Service == "api"),
            $"published beyond loopback: {string.Join(", ", exposed.Select(p => $"{p.Service} {p.HostAddress ?? "*"}:{p.Published}"))}");
        Assert.Contains(exposed, p => p.Service == "api" && p.Published == "5080");
    }

    [Fact]
    public async Task Holds_no_secret_and_names_the_one_missing_when_there_is_no_env_file()
    {
        var result = await DockerCompose.RunWithEnvFileAsync(null, "config", "-q");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("set it in .env (see .env.example)", result.StandardError);

        // The example's values are the only ones: none of them is written in the compose file itself.
        var compose = await File.ReadAllTextAsync(DockerCompose.ComposeFile);
        foreach (var line in await File.ReadAllLinesAsync(DockerCompose.ExampleEnvFile))
        {
            if (line.StartsWith('#') || !line.Contains('='))
                continue;
            var value = line[(line.IndexOf('=') + 1)..];
            Assert.False(compose.Contains(value, StringComparison.Ordinal), $"docker-compose.yml contains the secret of {line[..line.IndexOf('=')]}");
        }

        // .env (the real secrets) is never committed.
        Assert.Contains(".env", (await File.ReadAllLinesAsync(Path.Combine(DockerCompose.RepositoryRoot, ".gitignore"))).Select(l => l.Trim()));
    }

    [Fact]
    public async Task The_services_run_with_least_privilege_and_only_the_migration_gets_the_owner()
    {
        var services = await LoadServicesAsync();
        foreach (var (name, role) in new[] { ("api", "sagas_api"), ("workers", "sagas_workers") })
        {
            var environment = services[name].Environment;
            Assert.Contains($"Username={role};", environment["ConnectionStrings__Postgres"]);
            Assert.Equal("sagas_app", environment["RabbitMq__Username"]);
            Assert.Equal("sagas", environment["RabbitMq__VirtualHost"]);
            Assert.False(environment.ContainsKey("ConnectionStrings__Migrations"), $"{name} holds the owner's connection");
        }

        Assert.Contains("Username=sagas;", services["migrate"].Environment["ConnectionStrings__Migrations"]);
        Assert.Equal("sagas_api", services["migrate"].Environment["DatabaseRoles__Api"]);
        Assert.Equal("sagas_workers", services["migrate"].Environment["DatabaseRoles__Workers"]);
        Assert.Contains("Database=sagas_sandbox;Username=sagas_sandbox", services["payment-sandbox"].Environment["ConnectionStrings__Postgres"]);
        Assert.False(services["payment-sandbox"].Environment.ContainsKey("ConnectionStrings__Migrations"));
    }

    [Fact]
    public async Task Commits_no_api_key_the_api_takes_each_keys_digest_from_the_environment_and_runs_outside_development()
    {
        var compose = await File.ReadAllTextAsync(DockerCompose.ComposeFile);
        Assert.DoesNotContain("ApiKeys__", compose);
        Assert.DoesNotContain("dev-storefront-key", compose);
        Assert.DoesNotContain("dev-support-key", compose);
        Assert.DoesNotContain("dev-admin-key", compose);

        // Every entry's digest is the one .env.example gives (so it came from the environment), one client per role.
        var example = (await File.ReadAllLinesAsync(DockerCompose.ExampleEnvFile))
            .Where(l => !l.StartsWith('#') && l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        var api = (await LoadServicesAsync())["api"].Environment;
        foreach (var (index, role) in new[] { (0, "storefront"), (1, "support"), (2, "admin") })
        {
            Assert.Equal(role, api[$"ApiClients__{index}__Role"]);
            Assert.Equal(example[$"SAGAS_{role.ToUpperInvariant()}_KEY_SHA256"], api[$"ApiClients__{index}__Sha256"]);
        }

        Assert.DoesNotContain(api.Keys, k => k.StartsWith("ApiKeys__", StringComparison.OrdinalIgnoreCase));
        // appsettings.Development.json, in the image, accepts the plain development keys: the published Api must not read it.
        Assert.NotEqual("Development", api["ASPNETCORE_ENVIRONMENT"]);
        Assert.NotEqual("Development", api["DOTNET_ENVIRONMENT"]);
    }

    static async Task<IReadOnlyDictionary<string, ComposeService>> LoadServicesAsync()
    {
        var result = await DockerCompose.RunAsync("config");
        Assert.True(result.ExitCode == 0,
            $"`{result.CommandLine}` exited with code {result.ExitCode}:\n{result.StandardError}");
        return ComposeConfig.ParseServices(result.StandardOutput);
    }
}
