namespace Sagas.PaymentSandbox.Demo;

/// <summary>Configuration section <c>Demo</c>: where the demo checkout finds the Api, as a storefront.</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    public Uri ApiUrl { get; set; } = new("http://127.0.0.1:5080");

    /// <summary>A storefront key; it stays on the server, the page never sees it.</summary>
    public string StorefrontKey { get; set; } = "";

    /// <summary>The catalog items the page offers (the Api has no item listing).</summary>
    public string[] Skus { get; set; } = [];
}
