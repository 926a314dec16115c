using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Sagas.Observability;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Hosting;

public static class Roles
{
    public const string Storefront = "storefront";
    public const string Support = "support";
    public const string Admin = "admin";

    public static readonly string[] All = [Storefront, Support, Admin];
}

/// <summary>
/// Authenticates <c>X-Api-Key</c>. The client id claim (the entry's name, or a plain key's digest prefix — never the
/// key) scopes orders, idempotency keys and rate limits per caller. Missing or unknown key → 401, wrong role → 403,
/// both problem+json.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry registry,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string ClientIdClaim = "client_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        if (registry.Find(values[0]!) is not { } client)
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Role, client.Role), new Claim(ClientIdClaim, client.ClientId), new Claim(ClaimTypes.Name, client.Role)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized,
            $"A valid API key is required in the {Header} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "This API key's role may not use this endpoint.");

    async Task WriteProblem(int status, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = Problems.Title(status), Detail = detail },
        });
    }
}

public static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyEntries>()
            .Configure<IConfiguration>((keys, configuration) => keys.ReadFrom(configuration))
            .ValidateProblems(keys => keys.Problems());
        services.AddSingleton<ApiKeyRegistry>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(Policies.Deny)
            .AddPolicy(Roles.Storefront, p => p.RequireRole(Roles.Storefront))
            .AddPolicy(Roles.Support, p => p.RequireRole(Roles.Support))
            .AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.AnyRole, p => p.RequireRole(Roles.All))
            .AddPolicy(Policies.StorefrontOrSupport, p => p.RequireRole(Roles.Storefront, Roles.Support));
        return services;
    }

    /// <summary>
    /// Says at start what an operator should know about the keys: none configured, or plain keys (the key in a
    /// configuration name) outside Development, where entries with a digest belong.
    /// </summary>
    public static void WarnAboutApiKeys(this WebApplication app)
    {
        var registry = app.Services.GetRequiredService<ApiKeyRegistry>();
        if (registry.IsEmpty)
            app.Logger.LogWarning("No API keys are configured ({Clients} or {Plain} section): every authenticated endpoint will answer 401",
                ApiKeyEntries.ClientsSection, ApiKeyEntries.PlainSection);
        else if (registry.PlainKeyCount > 0 && !app.Environment.IsDevelopment())
            app.Logger.LogWarning(
                "{Count} plain API key(s) configured as {Plain}__<key> in {Environment}: the key sits in a configuration name. " +
                "Configure {Clients}__<i>__Name/__Role/__Sha256 entries instead (docs/security.md, \"Moving a plain key to an entry\")",
                registry.PlainKeyCount, ApiKeyEntries.PlainSection, app.Environment.EnvironmentName, ApiKeyEntries.ClientsSection);
    }

    public static string ClientId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.ClientIdClaim) ?? "anonymous";
}

public static class Policies
{
    public const string AnyRole = "any-role";
    public const string StorefrontOrSupport = "storefront-or-support";

    /// <summary>
    /// The fallback policy: what an endpoint gets when it names neither a policy nor <c>AllowAnonymous</c>. It denies:
    /// no key → 401, any key → 403, so a new endpoint is private until it says who may call it. A request that
    /// matched none of the app's endpoints (no endpoint, or routing's own 405 answer, which is no route endpoint)
    /// still answers 404/405 to a caller with a valid key; anonymous callers get 401 for any such path, which
    /// tells them nothing about what exists.
    /// </summary>
    public static readonly AuthorizationPolicy Deny = new AuthorizationPolicyBuilder()
        .RequireAuthenticatedUser()
        .RequireAssertion(context => context.Resource is HttpContext http && http.GetEndpoint() is not RouteEndpoint)
        .Build();
}
