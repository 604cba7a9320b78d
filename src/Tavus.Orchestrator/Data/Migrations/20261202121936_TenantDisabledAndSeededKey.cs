using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations
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
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "SeededKeyHash",
                table: "Tenants",
                type: "TEXT",
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
