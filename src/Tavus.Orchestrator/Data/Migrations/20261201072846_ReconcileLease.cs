using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class ReconcileLease : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "ReconcileClaimedUntil",
                table: "Conversations",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ReconcileClaimedUntil",
                table: "Conversations");
        }
    }
}
