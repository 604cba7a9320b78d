using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class TenantDisabledAndSeededKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Disabled",
                table: "Tenants",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "SeededKeyHash",
                table: "Tenants",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Disabled",
                table: "Tenants");

            migrationBuilder.DropColumn(
                name: "SeededKeyHash",
                table: "Tenants");
        }
    }
}
