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

    static async Task<IReadOnlyDictionary<string, ComposeService>> LoadServicesAsync()
    {
        var result = await DockerCompose.RunAsync("config");
        Assert.True(result.ExitCode == 0,
            $"`{result.CommandLine}` exited with code {result.ExitCode}:\n{result.StandardError}");
        return ComposeConfig.ParseServices(result.StandardOutput);
    }
}
