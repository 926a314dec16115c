using System.Text.RegularExpressions;

namespace Sagas.EndToEndTests.Api;

/// <summary>An endpoint of the Api as http-contract.md names it, with the parameters its bullet names.</summary>
public sealed record ContractEndpoint(string Method, string Path, IReadOnlySet<string> Query, IReadOnlySet<string> Headers)
{
    public string Name => $"{Method} {Path}";

    public IEnumerable<string> PathParameters => Regex.Matches(Path, @"\{(\w+)\}").Select(m => m.Groups[1].Value);
}

/// <summary>
/// Reads the pinned HTTP contract beside the repository (<c>../shared/design/http-contract.md</c>): every
/// <c>`METHOD /path?query=`</c> in a bullet of the sections that describe the Api, with the query parameters written
/// into it and the headers its bullet names (<c>header `Idempotency-Key`</c>). The payment sandbox's sections, the
/// conventions and the configuration table are skipped. A bullet's continuation lines belong to it.
/// </summary>
public static partial class HttpContractPage
{
    public static string FilePath { get; } =
        Path.GetFullPath(Path.Combine(RepositoryLayout.Root, "..", "shared", "design", "http-contract.md"));

    public static IReadOnlyList<ContractEndpoint> ApiEndpoints()
    {
        if (!File.Exists(FilePath))
            throw new FileNotFoundException($"The HTTP contract is not beside the repository at {FilePath}", FilePath);

        var endpoints = new Dictionary<string, ContractEndpoint>();
        foreach (var bullet in Bullets(File.ReadAllLines(FilePath)))
        {
            var mentioned = Endpoint().Matches(bullet).ToList();
            for (var i = 0; i < mentioned.Count; i++)
            {
                var target = mentioned[i].Groups["target"].Value.Split('?', 2);
                var query = target.Length > 1
                    ? target[1].Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')[0]).ToHashSet()
                    : [];
                // The headers a bullet names belong to the endpoint it is about: its first.
                var headers = i == 0 ? Header().Matches(bullet).Select(m => m.Groups["name"].Value).ToHashSet() : [];
                var endpoint = new ContractEndpoint(mentioned[i].Groups["method"].Value, target[0], query, headers);
                endpoints[endpoint.Name] = endpoints.TryGetValue(endpoint.Name, out var seen)
                    ? seen with { Query = seen.Query.Union(query).ToHashSet(), Headers = seen.Headers.Union(headers).ToHashSet() }
                    : endpoint;
            }
        }

        return endpoints.Values.ToList();
    }

    static IEnumerable<string> Bullets(IEnumerable<string> lines)
    {
        var included = false;
        string? bullet = null;
        foreach (var line in lines)
        {
            if (line.StartsWith('#'))
            {
                if (bullet is not null)
                    yield return bullet;
                bullet = null;
                included = !NotTheApi().IsMatch(line);
                continue;
            }

            if (line.StartsWith("- "))
            {
                if (bullet is not null)
                    yield return bullet;
                bullet = included ? line : null;
            }
            else if (line.StartsWith("  ") && bullet is not null)
                bullet += " " + line.Trim();
            else if (bullet is not null)
            {
                yield return bullet;
                bullet = null;
            }
        }

        if (bullet is not null)
            yield return bullet;
    }

    [GeneratedRegex(@"`(?<method>GET|POST|PUT|PATCH|DELETE) (?<target>/[^`\s]*)`")]
    private static partial Regex Endpoint();

    [GeneratedRegex(@"header `(?<name>[A-Za-z][A-Za-z0-9-]*)")]
    private static partial Regex Header();

    // The top heading, Conventions, the configuration table and both payment sandbox sections describe no Api endpoint.
    [GeneratedRegex(@"^# |Conventions|Configuration|sandbox", RegexOptions.IgnoreCase)]
    private static partial Regex NotTheApi();
}
