using System.Security.Cryptography;
using System.Text;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Simulation;

/// <summary>
/// Who may call the simulation endpoints (<c>/sandbox/…</c>): a customer paying or failing a QR code, the ledger with
/// every payment, the webhook log, the fault settings; and the demo checkout's <c>/demo/api/…</c>, which places orders
/// at the Api with a storefront key. They move money and show every customer's payments, so outside
/// Development they answer only a caller presenting <c>Sandbox:SimulationKey</c> in the <c>X-Sandbox-Key</c> header
/// (compared as SHA-256 digests, in fixed time); with no key configured they are closed to everyone. In Development
/// (<c>make run</c>, the tests, the benchmark, the demo checkout) they stay open.
/// </summary>
public sealed class SimulationAccess
{
    public const string KeySetting = "Sandbox:SimulationKey";
    public const string Header = "X-Sandbox-Key";
    public const int MinimumKeyLength = 16;

    readonly bool _open;
    readonly byte[]? _keyDigest;

    public SimulationAccess(IHostEnvironment environment, IConfiguration configuration)
    {
        _open = environment.IsDevelopment();
        if (configuration[KeySetting] is { Length: > 0 } key)
            _keyDigest = SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Why the configured key cannot be used (checked at start-up), or null.</summary>
    public static string? Problem(IConfiguration configuration) =>
        configuration[KeySetting] is { Length: > 0 and < MinimumKeyLength }
            ? $"{KeySetting} must be at least {MinimumKeyLength} characters long (environment variable Sandbox__SimulationKey)"
            : null;

    public bool Allows(HttpRequest request)
    {
        if (_open)
            return true;
        if (_keyDigest is null || request.Headers[Header] is not [{ Length: > 0 } presented])
            return false;
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _keyDigest);
    }

    /// <summary>The 401 a caller without the key gets: what to send, or that the endpoints are closed here.</summary>
    public IResult Refusal() => Problems.Unauthorized(
        _keyDigest is null
            ? $"The simulation endpoints and the demo checkout are closed outside Development: {KeySetting} is not set."
            : $"The simulation endpoints and the demo checkout need the key configured as {KeySetting} in the {Header} header outside Development.");
}

public static class SimulationAccessExtensions
{
    /// <summary>
    /// The simulation endpoints, and the demo checkout's calls (<c>/demo/api/…</c>): the demo places orders with the
    /// storefront key it holds and pays them through <c>/sandbox</c>, so outside Development it is the same door, behind
    /// the same key. The demo's page and files (<c>/demo/</c>) hold nothing and stay public.
    /// </summary>
    public static bool IsGuarded(PathString path) => path.StartsWithSegments("/sandbox") || path.StartsWithSegments("/demo/api");

    /// <summary>
    /// Requests under <see cref="IsGuarded"/> paths answer 401 problem+json, before anything reads them or changes anything, unless
    /// <see cref="SimulationAccess"/> allows the call.
    /// </summary>
    public static IApplicationBuilder UseSimulationAccess(this IApplicationBuilder app) =>
        app.UseWhen(context => IsGuarded(context.Request.Path), branch => branch.Use(async (context, next) =>
        {
            var access = context.RequestServices.GetRequiredService<SimulationAccess>();
            if (access.Allows(context.Request))
                await next(context);
            else
                await access.Refusal().ExecuteAsync(context);
        }));
}
