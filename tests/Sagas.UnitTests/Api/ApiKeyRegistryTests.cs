using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Sagas.Api.Hosting;

namespace Sagas.UnitTests.Api;

/// <summary>
/// API keys as configuration gives them: <c>ApiClients</c> entries (name, role, SHA-256 of the key) and plain
/// <c>ApiKeys</c>. Digests here are computed independently of the code under test.
/// </summary>
public class ApiKeyRegistryTests
{
    const string OldKey = "old-storefront-key-0123456789";
    const string NewKey = "new-storefront-key-9876543210";

    static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    static ApiKeyEntries Entries(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var entries = new ApiKeyEntries();
        entries.ReadFrom(configuration);
        return entries;
    }

    static (string, string)[] Entry(int index, string name, string role, string sha256) =>
    [
        ($"ApiClients:{index}:Name", name),
        ($"ApiClients:{index}:Role", role),
        ($"ApiClients:{index}:Sha256", sha256),
    ];

    static ApiKeyRegistry Registry(ApiKeyEntries entries)
    {
        Assert.Empty(entries.Problems());
        return new ApiKeyRegistry(Options.Create(entries));
    }

    [Fact]
    public void An_entry_identifies_its_client_by_name_and_two_keys_may_share_it()
    {
        var registry = Registry(Entries([
            .. Entry(0, "shop-eu", "storefront", Sha256(OldKey)),
            .. Entry(1, "shop-eu", "storefront", Sha256(NewKey).ToUpperInvariant()),
        ]));

        Assert.Equal(("storefront", "shop-eu"), registry.Find(OldKey));
        Assert.Equal(("storefront", "shop-eu"), registry.Find(NewKey));
        Assert.Null(registry.Find("another-key-entirely-0000"));
        Assert.Null(registry.Find(OldKey.ToUpperInvariant()));
        Assert.Equal(0, registry.PlainKeyCount);
    }

    [Fact]
    public void A_plain_key_keeps_its_digest_prefix_identity_and_an_entry_named_after_it_takes_it_over()
    {
        var prefix = Sha256("test-storefront-key")[..16];
        var plain = Registry(Entries(("ApiKeys:test-storefront-key", "storefront")));
        Assert.Equal(("storefront", prefix), plain.Find("test-storefront-key"));
        Assert.Equal(1, plain.PlainKeyCount);

        var migrated = Registry(Entries([
            .. Entry(0, prefix, "storefront", Sha256("test-storefront-key")),
            .. Entry(1, prefix, "storefront", Sha256(NewKey)),
        ]));
        Assert.Equal(("storefront", prefix), migrated.Find("test-storefront-key"));
        Assert.Equal(("storefront", prefix), migrated.Find(NewKey));
    }

    [Theory]
    [InlineData("ApiClients:0:Sha256", "abc", "ApiClients:0:Sha256 must be 64 hexadecimal characters")]
    [InlineData("ApiClients:0:Sha256", "zz2a0bd8a5a8d0f7b3d1b8e3e5c6d1f3b2e0a9c8d7e6f5a4b3c2d1e0f9a8b7c6", "ApiClients:0:Sha256 must be 64 hexadecimal characters")]
    [InlineData("ApiClients:0:Role", "storefrnt", "ApiClients:0:Role 'storefrnt' is not a role")]
    [InlineData("ApiClients:0:Name", "", "ApiClients:0:Name is empty")]
    [InlineData("ApiClients:0:Name", "Shop EU", "ApiClients:0:Name 'Shop EU' must be 1 to 64 of the characters")]
    [InlineData("ApiClients:0:Key", "the-key-itself-pasted-here", "ApiClients:0:Key is not a setting of an entry")]
    [InlineData("ApiKeys:short-key-1", "storefront", "ApiKeys: a key of 11 characters is shorter than the minimum of 12")]
    [InlineData("ApiKeys:long-enough-key", "storefrnt", "ApiKeys: a key of 15 characters maps to 'storefrnt', which is not a role")]
    public void An_unusable_setting_is_a_problem_that_names_it_and_shows_no_key_or_digest(string key, string value, string message)
    {
        var settings = Entry(0, "shop-eu", "storefront", Sha256(OldKey)).ToDictionary(s => s.Item1, s => s.Item2);
        settings[key] = value;
        var entries = Entries(settings.Select(s => (s.Key, s.Value)).ToArray());

        var problem = Assert.Single(entries.Problems());
        Assert.Contains(message, problem);
        if (key.StartsWith("ApiKeys:", StringComparison.Ordinal))
            Assert.DoesNotContain(key["ApiKeys:".Length..], problem);
        if (key.EndsWith("Sha256", StringComparison.Ordinal) || key.EndsWith("Key", StringComparison.Ordinal))
            Assert.DoesNotContain(value, problem);
        Assert.Null(new ApiKeyRegistry(Options.Create(entries)).Find(key.StartsWith("ApiKeys:", StringComparison.Ordinal) ? key[8..] : "nothing-else"));
    }

    [Fact]
    public void Entries_sharing_a_name_share_a_role_and_one_key_identifies_one_client()
    {
        var twoRoles = Entries([.. Entry(0, "shop-eu", "storefront", Sha256(OldKey)), .. Entry(1, "shop-eu", "support", Sha256(NewKey))]);
        Assert.Contains(twoRoles.Problems(), p => p.Contains("the entries named 'shop-eu' (ApiClients:0, ApiClients:1) have different roles"));

        var oneKeyTwoClients = Entries([.. Entry(0, "shop-eu", "storefront", Sha256(OldKey)), .. Entry(1, "shop-us", "storefront", Sha256(OldKey))]);
        Assert.Contains(oneKeyTwoClients.Problems(), p => p.Contains("ApiClients:0 and ApiClients:1 configure the same key"));

        // The same key as a plain key and as the entry it migrates to, with the same identity, is no conflict.
        var migrating = Entries([("ApiKeys:" + OldKey, "storefront"), .. Entry(0, Sha256(OldKey)[..16], "storefront", Sha256(OldKey))]);
        Assert.Empty(migrating.Problems());
    }
}
