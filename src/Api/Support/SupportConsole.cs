using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Support;

/// <summary>
/// The support console, <c>GET /support</c>: plain HTML, CSS and JavaScript in <c>wwwroot/support</c>, no build
/// step. The page and its files are public; everything it shows comes from the support endpoints, called with
/// the key a person signs in with. The policy below is why the page has no inline script or style: a value
/// that slipped into the markup could not run.
/// </summary>
public static class SupportConsole
{
    const string Page = "support/index.html";

    const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Serves <c>wwwroot</c> as static files, without a key (before authentication runs).</summary>
    public static IApplicationBuilder UseSupportConsoleFiles(this IApplicationBuilder app) =>
        app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = file => Harden(file.Context.Response) });

    public static IEndpointRouteBuilder MapSupportConsole(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/support", (HttpContext http, IWebHostEnvironment environment) =>
            {
                var page = environment.WebRootFileProvider.GetFileInfo(Page);
                if (!page.Exists)
                    return Problems.NotFound("The support console is not part of this build.");
                Harden(http.Response);
                return Results.Stream(page.CreateReadStream(), "text/html; charset=utf-8", lastModified: page.LastModified);
            })
            .AllowAnonymous()
            .WithTags("Support")
            .WithName("SupportConsole")
            .WithSummary("The support console (HTML); its data calls need a support key")
            .Produces(StatusCodes.Status200OK, contentType: "text/html");
        return endpoints;
    }

    static void Harden(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidated on every load, so a new version of the console is never mixed with a cached old script.
        headers.CacheControl = "no-cache";
    }
}
