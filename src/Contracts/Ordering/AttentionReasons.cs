namespace Sagas.Contracts.Ordering;

/// <summary>Why an order needs a person: the <c>attention.reason</c> values of the HTTP contract.</summary>
public static class AttentionReasons
{
    /// <summary>The provider refused the refund (a 4xx): retried automatically, but someone should look.</summary>
    public const string RefundRefused = "refund-refused";

    /// <summary>The provider refused to withdraw the QR payment (a 4xx).</summary>
    public const string CancelRefused = "cancel-refused";

    /// <summary>A refund, QR withdrawal or stock release keeps failing or going unanswered.</summary>
    public const string CompensationStuck = "compensation-stuck";

    /// <summary>The paid order's stock commit keeps failing or going unanswered.</summary>
    public const string PlacementStuck = "placement-stuck";

    /// <summary>The stock hold keeps failing or going unanswered.</summary>
    public const string HoldStuck = "hold-stuck";

    public static IReadOnlyList<string> All { get; } = [RefundRefused, CancelRefused, CompensationStuck, PlacementStuck, HoldStuck];
}
