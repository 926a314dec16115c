namespace Sagas.EndToEndTests.Api;

public sealed class OperationsContractTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_needs_no_key(string path)
    {
        using var anonymous = fixture.Client();
        var response = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_endpoints_and_has_an_interactive_page()
    {
        using var anonymous = fixture.Client();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/items/{sku}", paths);

        var page = await anonymous.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("swagger", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_support_console_is_served_without_a_key_and_allows_no_inline_script()
    {
        using var anonymous = fixture.Client();

        var page = await anonymous.GetAsync("/support");
        var script = await anonymous.GetAsync("/support/console.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script src=\"/support/console.js\" defer></script>", await page.Content.ReadAsStringAsync());
        var policy = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        // The page is public; its data is not.
        await (await anonymous.GetAsync("/orders/stats")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Metrics_need_no_key_and_are_prometheus_text()
    {
        using var anonymous = fixture.Client();
        // Something to count first: a refused request, and a scrape, which must not count itself.
        await anonymous.GetAsync("/orders/stats");
        await anonymous.GetAsync("/metrics");

        var response = await anonymous.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("service_name=\"sagas-api\"", text);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text);
        Assert.Contains("http_response_status_code=\"401\"", text);
        Assert.Contains("# TYPE dotnet_process_cpu_time_seconds_total counter", text);
        Assert.Contains("# TYPE db_client_connection_count gauge", text);
        Assert.DoesNotContain("http_route=\"/metrics\"", text);
    }

    [Fact]
    public async Task An_unknown_path_is_a_404_problem()
    {
        using var client = fixture.Client(ApiFixture.StorefrontKey);
        await (await client.GetAsync("/no/such/path")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Without_a_key_any_path_but_the_public_ones_is_a_401_problem()
    {
        // The fallback policy denies: an anonymous caller learns nothing about which paths exist.
        using var anonymous = fixture.Client();
        await (await anonymous.GetAsync("/no/such/path")).AssertProblem(HttpStatusCode.Unauthorized);
        await (await anonymous.DeleteAsync("/orders/stats")).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_method_a_path_does_not_take_is_a_405_problem_to_a_caller_with_a_key()
    {
        using var support = fixture.Client(ApiFixture.SupportKey);
        await (await support.DeleteAsync("/orders/stats")).AssertProblem(HttpStatusCode.MethodNotAllowed);
    }
}

/// <summary>The Api with <c>Metrics:Port</c>: the metrics move to a port of their own, which serves nothing else.</summary>
public sealed class MetricsPortFixture : ApiFixture
{
    public int MetricsPort { get; } = Sagas.Testing.ServiceProcess.FreePort();

    protected override IDictionary<string, string> Settings => new Dictionary<string, string> { ["Metrics__Port"] = MetricsPort.ToString() };
}

public sealed class MetricsPortContractTests(MetricsPortFixture fixture) : IClassFixture<MetricsPortFixture>
{
    [Fact]
    public async Task Metrics_are_served_on_their_own_port_only()
    {
        using var api = fixture.Client();
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.MetricsPort}/") };

        var scrape = await metrics.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("service_name=\"sagas-api\"", await scrape.Content.ReadAsStringAsync());
        // Not served on the Api's port: a path no endpoint matches, which anonymous callers get as 401 (the fallback
        // policy tells them nothing about what exists) and a caller with a key as 404.
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/metrics")).StatusCode);
        using (var support = fixture.Client(ApiFixture.SupportKey))
            Assert.Equal(HttpStatusCode.NotFound, (await support.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/health/live")).StatusCode);
    }
}
