using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Sagas.Messaging.Migrations;

/// <summary>One versioned schema change. <see cref="Id"/> orders it and is recorded once applied.</summary>
public sealed record MigrationScript(string Id, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

/// <summary>Supplies migration scripts; sources are applied in registration order, scripts in id order.</summary>
public interface IMigrationSource
{
    IEnumerable<MigrationScript> Scripts();
}

/// <summary>
/// The <c>*.sql</c> files embedded in an assembly (e.g. <c>Migrations/0001_catalog.sql</c>), ordered by file name.
/// Ids are prefixed with the source name so two assemblies never collide.
/// </summary>
public sealed class EmbeddedSqlMigrations(Assembly assembly, string sourceName) : IMigrationSource
{
    public IEnumerable<MigrationScript> Scripts()
    {
        var resources = assembly.GetManifestResourceNames()
            .Where(name => name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => (Resource: name, File: FileName(name)))
            .OrderBy(r => r.File, StringComparer.Ordinal);

        foreach (var (resource, file) in resources)
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            yield return new MigrationScript($"{sourceName}/{file}", reader.ReadToEnd());
        }
    }

    // "Sagas.Data.Migrations.0001_catalog.sql" -> "0001_catalog.sql"
    static string FileName(string resource)
    {
        var withoutExtension = resource[..^".sql".Length];
        var lastDot = withoutExtension.LastIndexOf('.');
        return withoutExtension[(lastDot + 1)..] + ".sql";
    }
}
