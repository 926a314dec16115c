using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Sagas.Api.Hosting;

/// <summary>
/// <c>ForwardedHeaders:KnownProxies</c>: the addresses of the reverse proxies in front of the Api. Only a request
/// whose connection comes from one of them has its <c>X-Forwarded-For</c> honoured (the client address then comes
/// from the header, through as many configured proxies as the chain holds). With none configured the header is
/// ignored altogether — ASP.NET Core would otherwise trust loopback — so a caller cannot pick the address its rate
/// limit is counted by.
/// </summary>
public static class TrustedProxies
{
    public const string Section = "ForwardedHeaders:KnownProxies";

    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = (configuration.GetSection(Section).Get<string[]>() ?? [])
            .Select(proxy => IPAddress.TryParse(proxy, out var address)
                ? address
                : throw new InvalidOperationException($"{Section}: '{proxy}' is not an IP address."))
            .ToList();
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies)
                options.KnownProxies.Add(proxy);
            // Walks back through configured proxies only: it stops at the first address that is not one.
            options.ForwardLimit = null;
        });
        return services;
    }

    /// <summary>First in the pipeline, so everything after it sees the client's address.</summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value.KnownProxies.Count > 0)
            app.UseForwardedHeaders();
        return app;
    }
}
