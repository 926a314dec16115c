using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sagas.Api.Hosting;

/// <summary>A plain key, <c>ApiKeys__&lt;key&gt;=&lt;role&gt;</c>: the key itself sits in a configuration name.</summary>
public sealed record PlainApiKey(string Key, string? Role);

/// <summary>
/// An <c>ApiClients__&lt;index&gt;</c> entry: a named client and the SHA-256 of one of its keys (hex, either case). The
/// key itself is never configured. Several entries may share a name: that client's old and new key during a rotation.
/// </summary>
public sealed record ApiClientEntry(string Index, string? Name, string? Role, string? Sha256, IReadOnlyList<string> UnknownSettings);

/// <summary>A key the Api accepts: where it was configured, its digest, its role and the client it identifies.</summary>
public sealed record ConfiguredKey(string Source, byte[] Digest, string Role, string ClientId, bool Plain);

/// <summary>
/// The <c>ApiClients</c> entries and the plain <c>ApiKeys</c>, checked at start-up (<see cref="Problems"/>): a value
/// the Api cannot use stops it, named by its setting and never showing a key or a digest (someone may have pasted the
/// key where the digest belongs).
/// </summary>
public sealed partial class ApiKeyEntries
{
    public const string PlainSection = "ApiKeys";
    public const string ClientsSection = "ApiClients";

    /// <summary>
    /// The shortest plain key accepted. It rules out placeholders and stubs ("key", "changeme", "storefront") while
    /// every development and test key committed so far (the shortest, <c>dev-admin-key</c>, has 13 characters) stays
    /// valid, so their client identities — the digest of the key — and the orders stored under them stay as they are.
    /// Length is not entropy: production keys are random (docs/security.md), and are configured as entries.
    /// </summary>
    public const int MinimumPlainKeyLength = 12;

    public const int MaximumNameLength = 64;

    static readonly string[] EntrySettings = ["Name", "Role", "Sha256"];

    public List<PlainApiKey> Plain { get; } = [];
    public List<ApiClientEntry> Clients { get; } = [];

    public void ReadFrom(IConfiguration configuration)
    {
        Plain.AddRange(configuration.GetSection(PlainSection).GetChildren().Select(entry => new PlainApiKey(entry.Key, entry.Value)));
        Clients.AddRange(configuration.GetSection(ClientsSection).GetChildren().Select(entry => new ApiClientEntry(
            entry.Key, entry["Name"], entry["Role"], entry["Sha256"],
            entry.GetChildren().Select(setting => setting.Key)
                .Where(setting => !EntrySettings.Contains(setting, StringComparer.OrdinalIgnoreCase)).ToList())));
    }

    public IEnumerable<string> Problems()
    {
        var roles = string.Join(", ", Roles.All);
        foreach (var plain in Plain)
        {
            if (!Roles.All.Contains(plain.Role))
                yield return $"{PlainSection}: a key of {plain.Key.Length} characters maps to '{plain.Role}', which is not a role ({roles}); " +
                             "the key itself is not shown";
            if (plain.Key.Length < MinimumPlainKeyLength)
                yield return $"{PlainSection}: a key of {plain.Key.Length} characters is shorter than the minimum of {MinimumPlainKeyLength}; " +
                             $"the key itself is not shown (use a long random key, configured as an {ClientsSection} entry)";
        }

        foreach (var entry in Clients)
        {
            var at = $"{ClientsSection}:{entry.Index}";
            if (string.IsNullOrEmpty(entry.Name))
                yield return $"{at}:Name is empty: every entry names the client its key identifies";
            else if (!IsValidName(entry.Name))
                yield return $"{at}:Name '{entry.Name}' must be 1 to {MaximumNameLength} of the characters a-z, 0-9, '.', '_' and '-'";
            if (!Roles.All.Contains(entry.Role))
                yield return $"{at}:Role '{entry.Role}' is not a role ({roles})";
            if (!IsSha256(entry.Sha256))
                yield return $"{at}:Sha256 must be 64 hexadecimal characters, the SHA-256 of the key's UTF-8 bytes; it has " +
                             $"{entry.Sha256?.Length ?? 0} (the value is not shown)";
            foreach (var unknown in entry.UnknownSettings)
                yield return $"{at}:{unknown} is not a setting of an entry ({string.Join(", ", EntrySettings)}; the key itself is never configured)";
        }

        foreach (var name in Clients.Where(e => IsValidName(e.Name) && Roles.All.Contains(e.Role)).GroupBy(e => e.Name!)
                     .Where(g => g.Select(e => e.Role).Distinct().Count() > 1))
            yield return $"{ClientsSection}: the entries named '{name.Key}' ({string.Join(", ", name.Select(e => $"{ClientsSection}:{e.Index}"))}) " +
                         "have different roles; a client has one role";

        foreach (var digest in Keys().GroupBy(k => Convert.ToHexString(k.Digest))
                     .Where(g => g.Select(k => (k.ClientId, k.Role)).Distinct().Count() > 1))
            yield return $"{string.Join(" and ", digest.Select(k => k.Source))} configure the same key for different clients or roles";
    }

    /// <summary>Every key that is usable as configured (an invalid one is a start-up problem and never accepted).</summary>
    public IEnumerable<ConfiguredKey> Keys()
    {
        foreach (var plain in Plain.Where(p => Roles.All.Contains(p.Role) && p.Key.Length >= MinimumPlainKeyLength))
            yield return new ConfiguredKey($"{PlainSection} (a key of {plain.Key.Length} characters)", DigestOf(plain.Key), plain.Role!,
                ClientIdOf(plain.Key), Plain: true);
        foreach (var entry in Clients.Where(e => IsValidName(e.Name) && Roles.All.Contains(e.Role) && IsSha256(e.Sha256)))
            yield return new ConfiguredKey($"{ClientsSection}:{entry.Index}", Convert.FromHexString(entry.Sha256!), entry.Role!, entry.Name!,
                Plain: false);
    }

    /// <summary>
    /// The client identity of a plain key: the first 16 hex digits of its SHA-256, lower case. Orders and
    /// Idempotency-Keys stored under a plain key carry it, so an entry with this name (and the same key's digest) keeps
    /// them visible after the key moves to <c>ApiClients</c> (docs/security.md).
    /// </summary>
    public static string ClientIdOf(string key) => Convert.ToHexStringLower(DigestOf(key))[..16];

    public static byte[] DigestOf(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    static bool IsValidName(string? name) => name is { Length: > 0 and <= MaximumNameLength } && NameCharacters().IsMatch(name);

    static bool IsSha256(string? hex) => hex is { Length: 64 } && hex.All(Uri.IsHexDigit);

    // Lower case only: a name is compared as written (it is stored with every order), so "Shop-EU" and "shop-eu"
    // would be two clients.
    [GeneratedRegex("^[a-z0-9._-]+$")]
    private static partial Regex NameCharacters();
}
