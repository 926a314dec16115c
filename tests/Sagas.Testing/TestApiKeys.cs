namespace Sagas.Testing;

/// <summary>The keys and webhook secret the test fixtures configure the services with (never the dev ones).</summary>
public static class TestApiKeys
{
    public const string Storefront = "test-storefront-key";
    public const string Support = "test-support-key";
    public const string Admin = "test-admin-key";
    public const string WebhookSecret = "test-webhook-secret";
}
