using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Sagas.Messaging.Hosting;

namespace Sagas.Api.Hosting;

public static class Roles
{
    public const string Storefront = "storefront";
    public const string Support = "support";
    public const string Admin = "admin";

    public static readonly string[] All = [Storefront, Support, Admin];
}

/// <summary>
/// <c>ApiKeys</c> configuration: key → role, one entry per configuration name (<c>ApiKeys__&lt;key&gt;=&lt;role&gt;</c>).
/// Checked at start-up: an entry whose role is not one of <see cref="Roles.All"/> stops the process (it used to be
/// ignored, and its key then answered 401 with nothing in the log to say why).
/// </summary>
public sealed class ApiKeyEntries
{
    public const string Section = "ApiKeys";

    public List<(string Key, string? Role)> Entries { get; } = [];

    public IEnumerable<string> Problems() => Entries
        .Where(entry => !Roles.All.Contains(entry.Role))
        .Select(entry => $"{Section}: a key of {entry.Key.Length} characters maps to '{entry.Role}', which is not a role " +
                         $"({string.Join(", ", Roles.All)}); the key itself is not shown");
}

/// <summary>
/// The configured keys. Only SHA-256 digests of the keys are kept in memory, and a
/// presented key is compared with every digest in constant time, so neither the comparison's duration
/// nor a log line can reveal a key.
/// </summary>
public sealed class ApiKeyRegistry
{
    readonly (byte[] Digest, string Role, string ClientId)[] _keys;

    public ApiKeyRegistry(IOptions<ApiKeyEntries> entries)
    {
        _keys = entries.Value.Entries
            .Where(entry => Roles.All.Contains(entry.Role))
            .Select(entry => (Digest(entry.Key), entry.Role!, ClientIdOf(entry.Key)))
            .ToArray();
    }

    public bool IsEmpty => _keys.Length == 0;

    public (string Role, string ClientId)? Find(string presented)
    {
        var digest = Digest(presented);
        (string, string)? match = null;
        foreach (var key in _keys)
            if (CryptographicOperations.FixedTimeEquals(digest, key.Digest))
                match = (key.Role, key.ClientId);
        return match;
    }

    /// <summary>
    /// Who a key belongs to, for scoping idempotency keys and rate limits: a prefix of the key's digest, so
    /// the key itself is never stored or used as a partition name.
    /// </summary>
    public static string ClientIdOf(string key) => Convert.ToHexStringLower(Digest(key))[..16];

    static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>
/// Authenticates <c>X-Api-Key</c>. The client id claim (a digest prefix, never the key) scopes idempotency
/// keys and rate limits per caller. Missing or unknown key → 401, wrong role → 403, both problem+json.
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
        WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized",
            $"A valid API key is required in the {Header} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "This API key's role may not use this endpoint.");

    async Task WriteProblem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

public static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyEntries>()
            .Configure<IConfiguration>((keys, configuration) => keys.Entries.AddRange(configuration.GetSection(ApiKeyEntries.Section)
                .GetChildren().Select(entry => (entry.Key, entry.Value))))
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
