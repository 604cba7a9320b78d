using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tavus.Orchestrator.Data.Migrations
{
    /// <inheritdoc />
    public partial class DropEventTimeIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ConversationEvents_ConversationId_OccurredAt",
                table: "ConversationEvents");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_ConversationEvents_ConversationId_OccurredAt",
                table: "ConversationEvents",
                columns: new[] { "ConversationId", "OccurredAt" });
        }
    }
}
