using Sagas.Data;
using Sagas.Messaging.Migrations;

namespace Sagas.UnitTests.Migrations;

public class MigrationScriptTests
{
    [Fact]
    public void Embedded_scripts_are_named_by_source_and_file_and_ordered_by_file_name()
    {
        var ids = DataMigrations.Source.Scripts().Select(s => s.Id).ToList();

        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.Matches(@"^data/\d{4}_[a-z0-9_]+\.sql$", id));
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void The_checksum_ignores_line_endings_but_not_content()
    {
        var unix = new MigrationScript("x/0001.sql", "CREATE TABLE a (id integer);\nSELECT 1;");
        var windows = new MigrationScript("x/0001.sql", "CREATE TABLE a (id integer);\r\nSELECT 1;");
        var edited = new MigrationScript("x/0001.sql", "CREATE TABLE a (id bigint);\nSELECT 1;");

        Assert.Equal(unix.Checksum, windows.Checksum);
        Assert.NotEqual(unix.Checksum, edited.Checksum);
    }
}
