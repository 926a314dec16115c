extern alias SagasApi;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Roles = SagasApi::Sagas.Api.Hosting.Roles;

namespace Sagas.IntegrationTests.Api;

/// <summary>
/// Issue 16, "a fallback policy that denies": every endpoint of the running Api either requires a policy or is
/// public on purpose (<c>AllowAnonymous</c>, and on the list below), and an endpoint that says neither is refused
/// to everybody, key or no key.
/// </summary>
public sealed class Every_endpoint_says_who_may_call_it(ApiHost api) : IClassFixture<ApiHost>
{
    /// <summary>
    /// Public on purpose: probes (orchestrators have no key), the support console's page (its data calls need a
    /// support key), the provider's webhook (authenticated by its HMAC signature instead), and the API description
    /// (only where API docs are enabled). Swagger UI and the console's files are middleware, not endpoints.
    /// </summary>
    static readonly string[] Public =
    [
        "* /health/live",
        "* /health/ready",
        "GET /support",
        "POST /webhooks/payments",
        "GET /openapi/{documentName}.json",
    ];

    [Fact]
    public void Every_endpoint_requires_a_policy_or_is_public_on_purpose()
    {
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var problems = new List<string>();
        var found = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var name = Name(endpoint);
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                found.Add(name);
                if (!Public.Contains(name))
                    problems.Add($"{name} allows anonymous callers but is not on the list of public endpoints");
            }
            else if (!endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is not null || a.Roles is not null))
            {
                problems.Add($"{name} names no policy or role (the fallback policy would deny it to everybody)");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The list stays true: nothing on it that is not (or no longer) a public endpoint.
        Assert.Equal(Public.Order(), found.Order());
        Assert.True(endpoints.Count > Public.Length, "the data source lists the Api's endpoints");
    }

    [Fact]
    public async Task An_endpoint_that_names_no_policy_is_refused_with_or_without_a_key()
    {
        var fallback = await api.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetFallbackPolicyAsync();
        Assert.NotNull(fallback);
        var authorization = api.Services.GetRequiredService<IAuthorizationService>();
        var newEndpoint = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/something-new"), 0,
            EndpointMetadataCollection.Empty, "an endpoint someone forgot to protect");

        foreach (var user in Roles.All.Select(Caller).Append(new ClaimsPrincipal(new ClaimsIdentity())))
        {
            var request = new DefaultHttpContext();
            request.SetEndpoint(newEndpoint);
            var result = await authorization.AuthorizeAsync(user, request, fallback);
            Assert.False(result.Succeeded, $"an endpoint with no policy let {user.Identity?.Name ?? "an anonymous caller"} in");
        }

        // A path that matched no endpoint is left to answer 404 to a caller with a key.
        var unmatched = await authorization.AuthorizeAsync(Caller(Roles.Storefront), new DefaultHttpContext(), fallback);
        Assert.True(unmatched.Succeeded);
    }

    static ClaimsPrincipal Caller(string role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(ClaimTypes.Name, role)], "ApiKey"));

    static string Name(RouteEndpoint endpoint)
    {
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        return $"{(methods is { Count: > 0 } ? string.Join(",", methods) : "*")} {endpoint.RoutePattern.RawText}";
    }
}
