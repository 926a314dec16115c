namespace Sagas.Api.Hosting;

/// <summary>
/// The API description (<c>/openapi/v1.json</c>) and its interactive page (<c>/swagger</c>) are served in Development,
/// or wherever <c>OpenApi:Enabled</c> is <c>true</c>; <c>OpenApi:Enabled=false</c> turns them off in Development too.
/// Elsewhere neither exists (a caller with a key gets 404): the description is a map of every endpoint, which a
/// production deployment need not hand to whoever asks.
/// </summary>
public static class ApiDocs
{
    public const string DocumentPath = "/openapi/{documentName}.json";

    public static bool Enabled(this WebApplication app) =>
        app.Configuration.GetValue<bool?>("OpenApi:Enabled") ?? app.Environment.IsDevelopment();

    /// <summary>The page is middleware: it must come before authorization, whose fallback policy denies it.</summary>
    public static WebApplication UseApiDocsPage(this WebApplication app)
    {
        if (app.Enabled())
            app.UseSwaggerUI(ui =>
            {
                ui.SwaggerEndpoint("/openapi/v1.json", "Sagas API v1");
                ui.RoutePrefix = "swagger";
            });
        return app;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        if (app.Enabled())
            app.MapOpenApi(DocumentPath).AllowAnonymous();
        return app;
    }
}
