using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Sagas.Api.Hosting;

/// <summary>
/// The keys the Api accepts (<see cref="ApiKeyEntries"/>). Only SHA-256 digests are kept in memory, and a presented
/// key's digest is compared with every configured digest in constant time, without stopping at a match, so neither
/// the comparison's duration nor a log line can reveal a key or which entry it matched.
/// </summary>
public sealed class ApiKeyRegistry
{
    readonly ConfiguredKey[] _keys;

    public ApiKeyRegistry(IOptions<ApiKeyEntries> entries)
    {
        _keys = entries.Value.Keys().ToArray();
    }

    public bool IsEmpty => _keys.Length == 0;

    /// <summary>How many keys are configured as plain <c>ApiKeys__&lt;key&gt;</c> (warned about outside Development).</summary>
    public int PlainKeyCount => _keys.Count(key => key.Plain);

    /// <summary>The role and client of <paramref name="presented"/>, or null for a key nobody configured.</summary>
    public (string Role, string ClientId)? Find(string presented)
    {
        var digest = ApiKeyEntries.DigestOf(presented);
        (string, string)? match = null;
        foreach (var key in _keys)
            if (CryptographicOperations.FixedTimeEquals(digest, key.Digest))
                match = (key.Role, key.ClientId);
        return match;
    }
}
