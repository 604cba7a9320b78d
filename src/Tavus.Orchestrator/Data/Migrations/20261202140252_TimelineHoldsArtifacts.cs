using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class TimelineHoldsArtifacts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PerceptionAnalysis",
                table: "Conversations");

            migrationBuilder.DropColumn(
                name: "Recording",
                table: "Conversations");

            migrationBuilder.DropColumn(
                name: "Transcript",
                table: "Conversations");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PerceptionAnalysis",
                table: "Conversations",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Recording",
                table: "Conversations",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Transcript",
                table: "Conversations",
                type: "TEXT",
                nullable: true);
        }
    }
}
