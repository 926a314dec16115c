using Microsoft.Extensions.Configuration;
using Sagas.Messaging.Migrations;
using static Sagas.Messaging.Migrations.TableGrant;

namespace Sagas.Data;

/// <summary>
/// Which tables each service reads and writes, and so what its database role is granted (docs/security.md, "Roles").
/// Found by reading each process's EF entities and SQL; the test suite runs every Api and Workers process as its own
/// role, so a table missing here fails the suite, and <c>Least_privilege</c> checks what each role may not touch.
/// </summary>
public static class ServiceTables
{
    /// <summary>The configuration keys naming the roles, read by whoever migrates as the owner.</summary>
    public const string ApiRoleKey = "DatabaseRoles:Api";
    public const string WorkersRoleKey = "DatabaseRoles:Workers";
    public const string DefaultApiRole = "sagas_api";
    public const string DefaultWorkersRole = "sagas_workers";

    /// <summary>Every process publishes through the outbox and cleans the inbox: the messaging library's tables.</summary>
    static readonly TableGrant[] Messaging = [Of("messaging.*")];

    /// <summary>
    /// Orders it accepts (idempotency keys, the outbox), the catalog it administers and prices from, webhooks it records;
    /// the saga's state and timeline and the reconciliation reports only to read them (support, order views, admission) —
    /// but for the entries support's actions on failed messages add to an order's timeline, which it may insert and never
    /// change.
    /// </summary>
    public static readonly IReadOnlyList<TableGrant> Api =
    [
        .. Messaging,
        Of("api.idempotency_keys"),
        Of("payments.webhook_events"),
        Of("inventory.items"),
        Of("ordering.order_state", ReadOnly),
        Of("ordering.order_timeline", ReadOnly + ", INSERT"),
        Of("payments.reconciliation_reports", ReadOnly),
        // Archived orders (Retention), read when the hot tables miss and beside them in support's search.
        Of("archive.idempotency_keys", ReadOnly),
        Of("archive.order_state", ReadOnly),
        Of("archive.order_timeline", ReadOnly),
    ];

    /// <summary>
    /// The saga and its consumers and sweeps: stock, holds, payments, refunds, reconciliation, the scheduler's Quartz tables;
    /// moving final orders to the archive.
    /// </summary>
    public static readonly IReadOnlyList<TableGrant> Workers =
    [
        .. Messaging,
        Of("quartz.*"),
        Of("inventory.items"),
        Of("inventory.stock_holds"),
        Of("ordering.order_state"),
        Of("ordering.order_timeline"),
        Of("payments.payments"),
        Of("payments.refunds"),
        Of("payments.reconciliations"),
        Of("payments.status_poll"),
        Of("payments.reconciliation_reports"),
        // Retention: the sweep moves orders only through this function (it runs as the owner, so the idempotency keys and
        // webhooks it moves stay unreadable to the Workers); reconciliation reads archived orders.
        Function(ArchiveOrders),
        Of("archive.order_state", ReadOnly),
    ];

    /// <summary>The function that moves a batch of final orders to the archive (Data migration 0013).</summary>
    public const string ArchiveOrders = "archive.archive_orders(text[], timestamptz, integer)";

    /// <summary>The roles of <c>DatabaseRoles:Api</c> and <c>DatabaseRoles:Workers</c> (by default sagas_api, sagas_workers) with their tables.</summary>
    public static IReadOnlyList<RoleGrant> Grants(IConfiguration configuration) =>
    [
        new(configuration[ApiRoleKey] is { Length: > 0 } api ? api : DefaultApiRole, "the Api, " + ApiRoleKey, Api),
        new(configuration[WorkersRoleKey] is { Length: > 0 } workers ? workers : DefaultWorkersRole, "the Workers, " + WorkersRoleKey, Workers),
    ];
}
