using Npgsql;

namespace Sagas.Bench;

public sealed record Verdict(string Scenario, string Check, bool Pass, string Detail);

/// <summary>
/// The reliability verdicts, from the sandbox's ledger (the money truth) and the item stock — never from
/// our own bookkeeping of payments:
/// every order final and none lost; no oversell (on hand = start − committed, held = 0); at most one capture
/// per order and exactly one for a placed order; every capture of an order that is not placed refunded exactly
/// once, in full; no refund of a placed order; every order captured in full at or before its QR's deadline ends Placed
/// unless it was canceled.
/// An order still in flight when the wait ends fails "every order final"; the other checks judge it only where
/// they hold whatever it does next (at most one capture, no refund twice or in part, stock within bounds), and
/// say how many were left out.
/// </summary>
public static class Verdicts
{
    public sealed record Outcome(List<Verdict> Verdicts, Dictionary<string, int> States);

    /// <summary>
    /// Waits until every accepted order of the scenario is final (or the timeout), then judges.
    /// <paramref name="origin"/> is when the first of them was sent, for the drain rate.
    /// </summary>
    public static async Task<Outcome> JudgeAsync(Stack stack, string scenario, IReadOnlyCollection<SubmittedOrder> orders,
        IReadOnlyDictionary<string, int> stockAtStart, TimeSpan timeout, double origin, Action<string> progress)
    {
        var ids = orders.Select(o => o.OrderId).ToArray();
        var states = new Dictionary<Guid, string?>();
        var deadline = Clock.Now + timeout.TotalSeconds;
        var lastReport = 0.0;
        while (true)
        {
            states = await StatesAsync(stack, ids);
            var open = ids.Count(id => !IsFinal(states, id));
            if (open == 0 || Clock.Now > deadline)
                break;
            if (Clock.Now - lastReport > 5)
            {
                progress($"{scenario}: waiting for {open} of {ids.Length} orders to become final");
                lastReport = Clock.Now;
            }

            await Task.Delay(500);
        }

        var verdicts = new List<Verdict>();
        void Check(string check, bool pass, string detail) => verdicts.Add(new Verdict(scenario, check, pass, detail));

        var missing = ids.Where(id => !states.ContainsKey(id)).ToList();
        var inFlight = ids.Count(id => !IsFinal(states, id));
        var notJudged = inFlight == 0 ? "" : $"; {inFlight} in flight, not judged";
        var byState = states.Values.GroupBy(s => s ?? "(no saga yet)").ToDictionary(g => g.Key, g => g.Count());
        var stateText = string.Join(", ", byState.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));
        Check("none lost", missing.Count == 0,
            missing.Count == 0 ? $"all {ids.Length} accepted orders are recorded" : $"{missing.Count} accepted orders unknown to the database, e.g. {missing[0]}");
        var elapsed = Clock.Now - origin;
        var final = ids.Length - inFlight;
        Check("every order final", inFlight == 0,
            inFlight == 0
                ? $"{ids.Length} final: {stateText}"
                : $"{inFlight} still in flight: {final} of {ids.Length} final {elapsed:0} s after the first was sent " +
                  $"({final / elapsed:0.0} orders/s); {stateText}");

        // Stock: what left the shelf is exactly what placed orders committed, and nothing is still held. Where
        // orders are in flight, what they hold or took may still go either way: there only the bounds are judged.
        var committed = new Dictionary<string, int>();
        var inFlightUnits = new Dictionary<string, int>();
        foreach (var order in orders)
        {
            var tally = !IsFinal(states, order.OrderId) ? inFlightUnits : states[order.OrderId] == "Placed" ? committed : null;
            if (tally is null)
                continue;
            foreach (var line in order.Lines)
                tally[line.Sku] = tally.GetValueOrDefault(line.Sku) + line.Quantity;
        }

        List<string> Wrong(Dictionary<string, (int OnHand, int Held)> stock)
        {
            var wrong = new List<string>();
            foreach (var (sku, start) in stockAtStart)
            {
                var expected = start - committed.GetValueOrDefault(sku);
                var pending = inFlightUnits.GetValueOrDefault(sku);
                if (!stock.TryGetValue(sku, out var now))
                    wrong.Add($"{sku}: missing");
                else if (pending == 0 && (now.OnHand != expected || now.Held != 0))
                    wrong.Add($"{sku}: on hand {now.OnHand}, expected {start} − {committed.GetValueOrDefault(sku)}, held {now.Held}");
                else if (pending > 0 && (now.Held < 0 || now.Held > now.OnHand || now.OnHand > expected || now.OnHand < expected - pending))
                    wrong.Add($"{sku}: on hand {now.OnHand}, held {now.Held}; expected held within 0..on hand and on hand within " +
                              $"{start} − {committed.GetValueOrDefault(sku)} − {pending} in flight .. {expected}");
            }

            return wrong;
        }

        // Stock can follow its order's final state too (an Expired order's hold is released after the transition),
        // so it is given the scenario's settle time to do so, as the money is below; stock that never comes back still fails.
        var skus = stockAtStart.Keys.ToArray();
        var wrong = Wrong(await SettleAsync(() => StockAsync(stack, skus), stock => Wrong(stock).Count > 0, timeout));
        var bounded = stockAtStart.Keys.Count(inFlightUnits.ContainsKey);
        Check("no oversell", wrong.Count == 0,
            wrong.Count > 0
                ? string.Join("; ", wrong.Take(5))
                : $"{stockAtStart.Count - bounded} skus: on hand = start − committed ({committed.Values.Sum()} units), held 0" +
                  (bounded == 0 ? "" : $"; {bounded} skus with {inFlightUnits.Values.Sum()} units of orders in flight: 0 ≤ held ≤ on hand, " +
                                       "start − committed − in flight ≤ on hand ≤ start − committed"));

        // Money, from the sandbox ledger.
        // A refund follows its order's final state (a late payment on an Expired order is refunded after the
        // fact, and waits out an open provider circuit), so the money is given the scenario's settle time; a refund that never
        // comes still fails.
        async Task<Dictionary<string, List<LedgerPayment>>> ReadLedger() =>
            (await stack.LedgerAsync()).GroupBy(p => p.MerchantReference).ToDictionary(g => g.Key, g => g.ToList());
        bool RefundPending(Dictionary<string, List<LedgerPayment>> byOrder) => ids.Any(id =>
            IsFinal(states, id) && states[id] != "Placed"
            && (byOrder.GetValueOrDefault(id.ToString()) ?? []).Any(p => p.CapturedAmount is not null && p.Refunds.Count == 0));
        var ledger = await SettleAsync(ReadLedger, RefundPending, timeout);

        int doubleCaptures = 0, placedWithoutCapture = 0, unrefunded = 0, refundedTwice = 0, partial = 0, placedRefunded = 0;
        int paidInTime = 0, paidInTimeNotPlaced = 0;
        var examples = new List<string>();
        foreach (var id in ids)
        {
            var payments = ledger.GetValueOrDefault(id.ToString()) ?? [];
            var captures = payments.Where(p => p.CapturedAmount is not null).ToList();
            var refunds = payments.SelectMany(p => p.Refunds).ToList();
            var state = states.GetValueOrDefault(id);
            if (captures.Count > 1)
            {
                doubleCaptures++;
                examples.Add($"{id}: {captures.Count} captures");
            }

            // Paid in time means placed: a full capture at or before the QR's deadline (a QR code exists only once the
            // stock is held) ends Placed unless the order was canceled.
            if (IsFinal(states, id) && captures.Any(p => p.PaidInTime))
            {
                paidInTime++;
                if (state is not ("Placed" or "Canceled"))
                {
                    paidInTimeNotPlaced++;
                    var capture = captures.First(p => p.PaidInTime);
                    examples.Add($"{id}: paid {capture.PaidAt:HH:mm:ss.fff} by the deadline {capture.ExpiresAt:HH:mm:ss.fff}, ended {state}");
                }
            }

            if (state == "Placed")
            {
                if (captures.Count == 0)
                {
                    placedWithoutCapture++;
                    examples.Add($"{id}: placed without a capture");
                }

                if (refunds.Count > 0)
                {
                    placedRefunded++;
                    examples.Add($"{id}: placed but refunded");
                }
            }
            else
            {
                foreach (var capture in captures)
                {
                    if (capture.Refunds.Count == 0)
                    {
                        // In flight, the refund may still come.
                        if (IsFinal(states, id))
                        {
                            unrefunded++;
                            examples.Add($"{id} ({state}): capture {capture.ProviderReference} not refunded");
                        }
                    }
                    else if (capture.Refunds.Count > 1)
                    {
                        refundedTwice++;
                        examples.Add($"{id} ({state}): {capture.Refunds.Count} refunds");
                    }
                    else if (capture.Refunds[0].Amount != capture.CapturedAmount)
                    {
                        partial++;
                        examples.Add($"{id} ({state}): refunded {capture.Refunds[0].Amount} of {capture.CapturedAmount}");
                    }
                }
            }
        }

        var captured = ids.Count(id => (ledger.GetValueOrDefault(id.ToString()) ?? []).Any(p => p.CapturedAmount is not null));
        var refundedOrders = ids.Count(id => (ledger.GetValueOrDefault(id.ToString()) ?? []).Any(p => p.Refunds.Count > 0));
        var strangers = ledger.Keys.Count(k => !Guid.TryParse(k, out var g) || !stack.Storefront.Orders.ContainsKey(g));
        Check("at most one capture per order", doubleCaptures == 0,
            $"{captured} orders captured, {doubleCaptures} more than once");
        Check("every placed order captured", placedWithoutCapture == 0, $"{placedWithoutCapture} placed without a capture{notJudged}");
        Check("captures of non-placed orders refunded exactly once", unrefunded + refundedTwice + partial == 0,
            $"{refundedOrders} orders refunded; {unrefunded} unrefunded, {refundedTwice} refunded more than once, {partial} partially{notJudged}");
        Check("no refund of a placed order", placedRefunded == 0, $"{placedRefunded} placed orders refunded{notJudged}");
        Check("paid in time means placed", paidInTimeNotPlaced == 0,
            $"{paidInTime} orders captured in full by their QR's deadline, {paidInTimeNotPlaced} of them ended neither Placed nor Canceled{notJudged}");
        if (strangers > 0)
            Check("ledger holds only our orders", false, $"{strangers} ledger references belong to no order this run submitted");
        if (examples.Count > 0)
            progress($"{scenario}: e.g. {string.Join("; ", examples.Take(5))}");

        return new Outcome(verdicts, byState);
    }

    /// <summary>Reads until <paramref name="unsettled"/> says no more, for up to <paramref name="timeout"/>; returns the last reading.</summary>
    static async Task<T> SettleAsync<T>(Func<Task<T>> read, Func<T, bool> unsettled, TimeSpan timeout)
    {
        var value = await read();
        for (var until = Clock.Now + timeout.TotalSeconds; unsettled(value) && Clock.Now < until; value = await read())
            await Task.Delay(1000);
        return value;
    }

    static bool IsFinal(Dictionary<Guid, string?> states, Guid id) =>
        states.GetValueOrDefault(id) is { } state && Stack.FinalStates.Contains(state);

    internal static async Task<Dictionary<Guid, string?>> StatesAsync(Stack stack, Guid[] ids)
    {
        Interlocked.Increment(ref stack.OwnQueries);
        await using var command = stack.Data.CreateCommand("""
            SELECT k.order_id, s.current_state
            FROM api.idempotency_keys k LEFT JOIN ordering.order_state s ON s.order_id = k.order_id
            WHERE k.order_id = ANY($1)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        var states = new Dictionary<Guid, string?>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                states[reader.GetGuid(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        catch (NpgsqlException)
        {
            // Mid-restart: report everything as not final yet and look again.
            return ids.ToDictionary(id => id, _ => (string?)null);
        }

        return states;
    }

    static async Task<Dictionary<string, (int OnHand, int Held)>> StockAsync(Stack stack, string[] skus)
    {
        Interlocked.Increment(ref stack.OwnQueries);
        await using var command = stack.Data.CreateCommand("SELECT sku, on_hand, held FROM inventory.items WHERE sku = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = skus });
        await using var reader = await command.ExecuteReaderAsync();
        var stock = new Dictionary<string, (int, int)>();
        while (await reader.ReadAsync())
            stock[reader.GetString(0)] = (reader.GetInt32(0 + 1), reader.GetInt32(2));
        return stock;
    }
}
