using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations
{
    /// <summary>
    /// SQLite only: "UsageDays" holds what the usage aggregate would group — per tenant, UTC day of
    /// creation, status and end reason, the count and the seconds of ended conversations — kept by
    /// triggers on "Conversations" in the same transaction as every change, whichever code makes it,
    /// and filled from the conversations already there. Not an EF entity: only
    /// <see cref="Usage.UsageReports"/> reads it, with SQL.
    /// </summary>
    public partial class UsageRollup : Migration
    {
        private const string Day = """CAST(julianday({0}."CreatedAt") - 2440587.5 AS INTEGER)""";
        private const string Seconds = """CASE WHEN {0}."EndedAt" IS NOT NULL THEN (julianday({0}."EndedAt") - julianday({0}."CreatedAt")) * 86400.0 ELSE 0 END""";

        private static string Add(string row) => $"""
            INSERT INTO "UsageDays" ("TenantId", "Day", "Status", "EndReason", "Count", "Seconds")
            VALUES ({row}."TenantId", {string.Format(Day, row)}, {row}."Status", COALESCE({row}."EndReason", ''), 1, {string.Format(Seconds, row)})
            ON CONFLICT ("TenantId", "Day", "Status", "EndReason")
            DO UPDATE SET "Count" = "Count" + 1, "Seconds" = "Seconds" + excluded."Seconds";
            """;

        private static string Remove(string row) => $"""
            UPDATE "UsageDays" SET "Count" = "Count" - 1, "Seconds" = "Seconds" - {string.Format(Seconds, row)}
            WHERE "TenantId" = {row}."TenantId" AND "Day" = {string.Format(Day, row)} AND "Status" = {row}."Status" AND "EndReason" = COALESCE({row}."EndReason", '');
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE "UsageDays" (
                    "TenantId" TEXT NOT NULL,
                    "Day" INTEGER NOT NULL,
                    "Status" TEXT NOT NULL,
                    "EndReason" TEXT NOT NULL,
                    "Count" INTEGER NOT NULL,
                    "Seconds" REAL NOT NULL,
                    PRIMARY KEY ("TenantId", "Day", "Status", "EndReason")
                ) WITHOUT ROWID;
                """);
            migrationBuilder.Sql($"""
                INSERT INTO "UsageDays" ("TenantId", "Day", "Status", "EndReason", "Count", "Seconds")
                SELECT c."TenantId", {string.Format(Day, "c")}, c."Status", COALESCE(c."EndReason", ''), COUNT(*), SUM({string.Format(Seconds, "c")})
                FROM "Conversations" c
                GROUP BY 1, 2, 3, 4;
                """);
            migrationBuilder.Sql($"""
                CREATE TRIGGER "Conversations_UsageOnInsert" AFTER INSERT ON "Conversations"
                BEGIN
                {Add("NEW")}
                END;
                """);
            migrationBuilder.Sql($"""
                CREATE TRIGGER "Conversations_UsageOnUpdate" AFTER UPDATE OF "TenantId", "CreatedAt", "Status", "EndReason", "EndedAt" ON "Conversations"
                WHEN OLD."TenantId" IS NOT NEW."TenantId" OR OLD."CreatedAt" IS NOT NEW."CreatedAt" OR OLD."Status" IS NOT NEW."Status"
                    OR OLD."EndReason" IS NOT NEW."EndReason" OR OLD."EndedAt" IS NOT NEW."EndedAt"
                BEGIN
                {Remove("OLD")}
                {Add("NEW")}
                END;
                """);
            migrationBuilder.Sql($"""
                CREATE TRIGGER "Conversations_UsageOnDelete" AFTER DELETE ON "Conversations"
                BEGIN
                {Remove("OLD")}
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER "Conversations_UsageOnDelete";""");
            migrationBuilder.Sql("""DROP TRIGGER "Conversations_UsageOnUpdate";""");
            migrationBuilder.Sql("""DROP TRIGGER "Conversations_UsageOnInsert";""");
            migrationBuilder.Sql("""DROP TABLE "UsageDays";""");
        }
    }
}
