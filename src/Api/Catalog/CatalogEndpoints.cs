using Microsoft.EntityFrameworkCore;
using Sagas.Api.Hosting;
using Sagas.Data;
using Sagas.Data.Catalog;
using Sagas.ServiceDefaults.Http;

namespace Sagas.Api.Catalog;

/// <summary>
/// <c>PUT /items/{sku}</c> (admin) upserts an item; <c>GET /items/{sku}</c> (any role) reads it with its
/// stock figures. Stock held by active orders is owned by the Workers: an admin may change <c>onHand</c>
/// but never below what is held (409), decided by one conditional statement so it cannot race a hold.
/// Both through EF Core (src/Data/README.md, "Reaching the database").
/// </summary>
public static class CatalogEndpoints
{
    public sealed record UpsertItemRequest(string? Name, string? Category, decimal? Price, string? Currency, int? OnHand);

    public sealed record ItemResponse(
        string Sku, string Name, string Category, decimal Price, string Currency, int OnHand, int Held, int Available);

    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder endpoints)
    {
        var items = endpoints.MapGroup("/items").WithTags("Catalog");
        items.MapPut("/{sku}", Upsert).RequireAuthorization(Roles.Admin)
            .WithName("PutItem").WithSummary("Create or update an item; on hand never below what is held")
            .Produces<ItemResponse>().ProducesValidationProblem().ProducesProblem(409);
        items.MapGet("/{sku}", Get).RequireAuthorization(Policies.AnyRole)
            .WithName("GetItem").WithSummary("An item with its stock: on hand, held, available")
            .Produces<ItemResponse>().ProducesProblem(404);
        return endpoints;
    }

    static async Task<IResult> Upsert(string sku, UpsertItemRequest? request, FulfilmentDbContext db, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var validation = new Validation();
        if (!Validation.IsSku(sku))
            validation.Add("sku", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (request is null)
            return validation.Add("body", "is required").Problem();
        validation.Text(request.Name, "name", 1, 200)
            .Text(request.Category, "category", 1, 100)
            .Money(request.Price, "price")
            .Currency(request.Currency);
        if (request.OnHand is null)
            validation.Add("onHand", "is required");
        else if (request.OnHand is < 0 or > 10_000_000)
            validation.Add("onHand", "must be between 0 and 10000000");
        if (!validation.IsValid)
            return validation.Problem();

        // One guarded statement, so it cannot race a hold: the update applies only while on hand stays at or above held.
        var saved = await db.Items.FromSql($"""
            INSERT INTO inventory.items AS i (sku, name, category, price, currency, on_hand, held, updated_at)
            VALUES ({sku}, {request.Name}, {request.Category}, {request.Price!.Value}, {request.Currency}, {request.OnHand!.Value}, 0,
                    {clock.GetUtcNow()})
            ON CONFLICT (sku) DO UPDATE
               SET name = EXCLUDED.name, category = EXCLUDED.category, price = EXCLUDED.price,
                   currency = EXCLUDED.currency, on_hand = EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at
             WHERE i.held <= EXCLUDED.on_hand
            RETURNING i.*
            """).AsNoTracking().ToListAsync(cancellationToken);
        if (saved is [var item])
            return Results.Ok(Response(item));

        var current = await Find(db, sku, cancellationToken);
        return Problems.Conflict(
            $"onHand {request.OnHand} is below the {current?.Held} units currently held by orders.");
    }

    static async Task<IResult> Get(string sku, FulfilmentDbContext db, CancellationToken cancellationToken) =>
        await Find(db, sku, cancellationToken) is { } item
            ? Results.Ok(Response(item))
            : Problems.NotFound($"No item with sku '{sku}'.");

    static Task<Item?> Find(FulfilmentDbContext db, string sku, CancellationToken cancellationToken) =>
        db.Items.AsNoTracking().SingleOrDefaultAsync(i => i.Sku == sku, cancellationToken);

    static ItemResponse Response(Item item) =>
        new(item.Sku, item.Name, item.Category, item.Price, item.Currency, item.OnHand, item.Held, item.Available);
}
