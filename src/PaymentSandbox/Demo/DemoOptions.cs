namespace Sagas.PaymentSandbox.Demo;

/// <summary>Configuration section <c>Demo</c>: where the demo checkout finds the Api, as a storefront.</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>The Api's shortest key (ApiKeyConfiguration): a shorter one could never be accepted there.</summary>
    public const int MinimumKeyLength = 12;

    public Uri ApiUrl { get; set; } = new("http://127.0.0.1:5080");

    /// <summary>
    /// A storefront key; it stays on the server, the page never sees it. Never committed: <c>make run</c> and the tests
    /// pass one (<c>Demo__StorefrontKey</c>). Unset: the demo's calls answer 503 saying so.
    /// </summary>
    public string StorefrontKey { get; set; } = "";

    /// <summary>The catalog items the page offers (the Api has no item listing).</summary>
    public string[] Skus { get; set; } = [];

    /// <summary>What makes these settings unusable (checked at start): none when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (ApiUrl is not { IsAbsoluteUri: true } || (ApiUrl.Scheme != Uri.UriSchemeHttp && ApiUrl.Scheme != Uri.UriSchemeHttps))
            yield return "Demo:ApiUrl must be an absolute http or https URL";
        if (StorefrontKey.Length is > 0 and < MinimumKeyLength)
            yield return $"Demo:StorefrontKey must be at least {MinimumKeyLength} characters long (or unset: no demo orders)";
        if (StorefrontKey.Any(char.IsControl))
            yield return "Demo:StorefrontKey must not contain control characters";
        if (Skus.Any(string.IsNullOrWhiteSpace))
            yield return "Demo:Skus must not contain an empty SKU";
    }
}
