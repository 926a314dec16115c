using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sagas.Messaging.Sagas;

/// <summary>
/// Loads a saga instance with <c>SELECT … FOR UPDATE</c>, taking the table and column names from the DbContext's
/// model so that any mapped <see cref="SagaStateMachineInstance"/> works.
/// </summary>
static class SagaRowLock<TSaga>
    where TSaga : class, ISaga
{
    // The model of a DbContext type does not change at run time, so the statement is built once per pair.
    static readonly Dictionary<Type, string> Statements = [];

    // Advisory locks of the two-key form live apart from the single-key ones (the schema migrator's); the first key
    // keeps saga types apart, the second is the instance.
    static readonly int SagaTypeKey = StableHash(typeof(TSaga).FullName!);

    public static async Task<TSaga?> Load(DbContext dbContext, Guid correlationId, CancellationToken cancellationToken)
    {
        var instances = await dbContext.Set<TSaga>()
            .FromSqlRaw(Statement(dbContext), correlationId)
            .AsTracking()
            .ToListAsync(cancellationToken);
        return instances.SingleOrDefault();
    }

    /// <summary>
    /// Serialises the creation of one instance until the transaction ends. Without it, two first events both miss
    /// the row (there is nothing to lock yet), both insert, and one fails on the primary key. Taken only after a miss,
    /// so events for existing instances pay nothing; the second creator waits here, then finds the first one's row.
    /// </summary>
    public static Task LockCreation(DbContext dbContext, Guid correlationId, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SagaTypeKey}, {correlationId.GetHashCode()})", cancellationToken);

    static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
            hash = unchecked(hash * 31 + c);
        return hash;
    }

    static string Statement(DbContext dbContext)
    {
        lock (Statements)
        {
            if (!Statements.TryGetValue(dbContext.GetType(), out var statement))
                Statements[dbContext.GetType()] = statement = Build(dbContext.Model);
            return statement;
        }
    }

    static string Build(IModel model)
    {
        var entity = model.FindEntityType(typeof(TSaga))
                     ?? throw new InvalidOperationException($"{typeof(TSaga).Name} is not mapped in the DbContext");
        var table = entity.GetTableName() ?? throw new InvalidOperationException($"{typeof(TSaga).Name} is not mapped to a table");
        var schema = entity.GetSchema();
        var column = entity.FindProperty(nameof(ISaga.CorrelationId))!.GetColumnName(StoreObjectIdentifier.Table(table, schema));

        var qualifiedTable = schema is null ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
        return $"SELECT * FROM {qualifiedTable} WHERE {Quote(column!)} = {{0}} FOR UPDATE";
    }

    static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
