namespace Sagas.IntegrationTests.Deployment;

/// <summary>What the deployment tests need to know about one service of the compose file.</summary>
sealed record ComposeService(
    string Name,
    string? BuildContext,
    string? Dockerfile,
    IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Reads the normalized YAML that <c>docker-compose config</c> prints. That output is regular (two-space
/// indentation, block mappings, environment always as a mapping, anchors resolved), so a reader of
/// "key: value" lines by indentation is enough; list items are skipped. It is not a general YAML parser.
/// </summary>
static class ComposeConfig
{
    public static IReadOnlyDictionary<string, ComposeService> ParseServices(string normalizedYaml)
    {
        var scalars = new Dictionary<string, string>(StringComparer.Ordinal);
        var serviceNames = new List<string>();
        var path = new List<(int Indent, string Key)>();

        foreach (var rawLine in normalizedYaml.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var content = line.TrimStart(' ');
            if (content.Length == 0 || content.StartsWith('#') || content.StartsWith("- ", StringComparison.Ordinal) || content == "-")
                continue;
            var indent = line.Length - content.Length;
            var (key, value) = SplitKeyValue(content);
            if (key is null)
                continue;

            while (path.Count > 0 && path[^1].Indent >= indent)
                path.RemoveAt(path.Count - 1);
            path.Add((indent, key));

            var keys = path.Select(p => p.Key).ToArray();
            if (keys.Length == 2 && keys[0] == "services")
                serviceNames.Add(key);
            if (value is not null)
                scalars[string.Join('\u001f', keys)] = value;
        }

        return serviceNames.ToDictionary(name => name, name => new ComposeService(
            name,
            Get(scalars, "services", name, "build", "context"),
            Get(scalars, "services", name, "build", "dockerfile")
                ?? (Get(scalars, "services", name, "build", "context") is null ? null : "Dockerfile"),
            EnvironmentOf(scalars, name)));
    }

    static Dictionary<string, string> EnvironmentOf(Dictionary<string, string> scalars, string service)
    {
        var prefix = string.Join('\u001f', "services", service, "environment") + '\u001f';
        return scalars
            .Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal) && pair.Key.IndexOf('\u001f', prefix.Length) < 0)
            .ToDictionary(pair => pair.Key[prefix.Length..], pair => pair.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Every published port as (service, host address, published port): the short form <c>docker-compose config</c> prints
    /// for a port bound to an address (<c>- 127.0.0.1:5672:5672/tcp</c>), or its long form without a <c>host_ip</c>
    /// (<c>- published: 5080</c>), which binds every interface (host address null).
    /// </summary>
    public static IReadOnlyList<(string Service, string? HostAddress, string Published)> PublishedPorts(string normalizedYaml)
    {
        var ports = new List<(string, string?, string)>();
        string? service = null;
        var inPorts = false;
        foreach (var rawLine in normalizedYaml.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            var content = line.TrimStart(' ');
            var indent = line.Length - content.Length;
            if (indent == 2 && content.EndsWith(':'))
                (service, inPorts) = (content[..^1], false);
            else if (indent == 4 && content.StartsWith("- ", StringComparison.Ordinal))
            {
                if (inPorts && service is not null)
                    ports.Add(Port(service, content[2..]));
            }
            else if (indent == 4)
                inPorts = content == "ports:";
        }

        return ports;

        static (string, string?, string) Port(string service, string item)
        {
            if (item.StartsWith("published: ", StringComparison.Ordinal))
                return (service, null, item["published: ".Length..]);
            var parts = item.Split('/')[0].Split(':');
            return parts.Length == 3 ? (service, parts[0], parts[1]) : (service, null, parts[0]);
        }
    }

    static string? Get(Dictionary<string, string> scalars, params string[] keys) =>
        scalars.TryGetValue(string.Join('\u001f', keys), out var value) ? value : null;

    /// <summary>"key: value" → (key, value); "key:" → (key, null); anything else → (null, null).</summary>
    static (string? Key, string? Value) SplitKeyValue(string content)
    {
        var separator = content.IndexOf(": ", StringComparison.Ordinal);
        if (separator > 0)
            return (Unquote(content[..separator]), Unquote(content[(separator + 2)..].Trim()));
        if (content.EndsWith(':'))
            return (Unquote(content[..^1]), null);
        return (null, null);
    }

    static string Unquote(string text)
    {
        if (text.Length >= 2 && text[0] == '\'' && text[^1] == '\'')
            return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
            return text[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        return text;
    }
}
