using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Sagas.Api.Hosting;

/// <summary>
/// A header or query parameter a handler reads from the request itself (for its own validation messages), which the
/// OpenAPI generator cannot see: declared on the endpoint, added to its operation by <see cref="ApiDescription"/>.
/// </summary>
public sealed record DocumentedParameter(
    string Name, ParameterLocation In, string Description, bool Required = false, JsonSchemaType Type = JsonSchemaType.String,
    string? Format = null, IReadOnlyList<string>? Values = null, int? Minimum = null, int? Maximum = null, int? MaxLength = null);

/// <summary>
/// What <c>/openapi/v1.json</c> says beyond what the generator infers, so that a client generated from it can call every
/// endpoint: the <c>X-Api-Key</c> security scheme and, per operation, whether it needs a key and which roles may use
/// it (read from the endpoint's own authorization metadata, so the document cannot drift from what is enforced); the
/// parameters handlers read themselves; the health endpoints, which are not route handlers.
/// </summary>
public static class ApiDescription
{
    public const string ApiKeyScheme = "ApiKey";

    public static IServiceCollection AddApiDescription(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddOperationTransformer(DescribeOperation);
            options.AddDocumentTransformer(DescribeDocument);
        });

    public static TBuilder WithHeader<TBuilder>(this TBuilder builder, string name, string description, bool required = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DocumentedParameter(name, ParameterLocation.Header, description, required));

    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, DocumentedParameter parameter)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(parameter with { In = ParameterLocation.Query });

    /// <summary><c>cursor</c> and <c>limit</c> of a paged list.</summary>
    public static TBuilder WithPaging<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithQuery(new DocumentedParameter("cursor", ParameterLocation.Query, "The `nextCursor` of the previous page; omit for the first page."))
            .WithQuery(new DocumentedParameter("limit", ParameterLocation.Query, "Items per page, 1 to 200 (default 50).",
                Type: JsonSchemaType.Integer, Minimum: 1, Maximum: 200));

    static async Task DescribeOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        foreach (var parameter in metadata.OfType<DocumentedParameter>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = parameter.In,
                Required = parameter.Required,
                Description = parameter.Description,
                Schema = Schema(parameter),
            });
        }

        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Over a rate limit: problem+json with `Retry-After` (seconds)." });
        if (metadata.OfType<IAllowAnonymous>().Any() || metadata.OfType<IAuthorizeData>().ToList() is not { Count: > 0 } authorization)
            return;

        var roles = await RolesOf(authorization, context.ApplicationServices.GetRequiredService<IAuthorizationPolicyProvider>());
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }];
        var who = roles.Count == 1
            ? $"Needs an API key (`X-Api-Key`) with the role {roles[0]}."
            : $"Needs an API key (`X-Api-Key`) with one of the roles {string.Join(", ", roles)}.";
        operation.Description = operation.Description is null ? who : $"{operation.Description}\n\n{who}";
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No API key, or one that is not configured (problem+json)." });
        operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The key's role may not use this endpoint (problem+json)." });
    }

    /// <summary>The roles every one of the endpoint's policies allows (a group's policy and the endpoint's own both apply).</summary>
    static async Task<IReadOnlyList<string>> RolesOf(IEnumerable<IAuthorizeData> authorization, IAuthorizationPolicyProvider policies)
    {
        IEnumerable<string> allowed = Roles.All;
        foreach (var data in authorization)
        {
            var policy = data.Policy is null ? null : await policies.GetPolicyAsync(data.Policy);
            foreach (var requirement in policy?.Requirements.OfType<RolesAuthorizationRequirement>() ?? [])
                allowed = allowed.Intersect(requirement.AllowedRoles);
            if (data.Roles is { } roles)
                allowed = allowed.Intersect(roles.Split(',', StringSplitOptions.TrimEntries));
        }

        return allowed.ToList();
    }

    static OpenApiSchema Schema(DocumentedParameter parameter)
    {
        var schema = new OpenApiSchema
        {
            Type = parameter.Type,
            Format = parameter.Format,
            MaxLength = parameter.MaxLength,
            Minimum = parameter.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Maximum = parameter.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (parameter.Values is { } values)
            schema.Enum = values.Select(value => (System.Text.Json.Nodes.JsonNode)value).ToList();
        return schema;
    }

    static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Sagas API";
        document.Info.Description = "Order fulfilment: storefront orders, payment-provider webhooks, support queries, catalog " +
                                    "admin. Errors are RFC 9457 problem+json.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.Header,
            Description = "An API key; its role (storefront, support or admin) decides what it may call. Missing or unknown → 401, " +
                          "wrong role → 403.",
        };
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "Operations" });
        Health(document, "/health/live", "Live", "The process is up (no key)", ready: false);
        Health(document, "/health/ready", "Ready", "PostgreSQL, RabbitMQ and migrations are ready (no key)", ready: true);
        return Task.CompletedTask;
    }

    // MapHealthChecks endpoints are not route handlers, so the generator does not see them.
    static void Health(OpenApiDocument document, string path, string operationId, string summary, bool ready)
    {
        var responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "`{ \"status\", \"checks\": [ { \"name\", \"status\" } ] }`: names and statuses only" },
        };
        if (ready)
            responses["503"] = new OpenApiResponse { Description = "Not ready; the same body says which check is not healthy." };
        document.Paths[path] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new()
                {
                    OperationId = operationId,
                    Summary = summary,
                    Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
                    Responses = responses,
                },
            },
        };
    }
}
