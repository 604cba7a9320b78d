using Microsoft.Extensions.FileProviders;

namespace Tavus.Orchestrator.OperatorConsole;

/// <summary>
/// <c>/console</c>: the operator's page, hand-written HTML, CSS and one ES module embedded in this
/// assembly (wwwroot/console), so <c>dotnet run</c>, a published build and the tests all serve the
/// same files with no build step or CDN. The page calls the admin API with the key the operator types in.
/// </summary>
public static class ConsolePage
{
    public const string Path = "/console";

    /// <summary>Only this origin's own files and calls; no inline script or style, no framing.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication MapConsole(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(ConsolePage).Assembly, "Tavus.Orchestrator.wwwroot.console");
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), page =>
        {
            page.Use((context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                // The page is small and changes with the service: revalidate (by ETag) rather than keep a stale copy.
                headers.CacheControl = "no-cache";
                // The page's relative links need the folder's slash (routing would treat both alike).
                if (context.Request.Path.Value == Path)
                {
                    context.Response.Redirect(Path + "/");
                    return Task.CompletedTask;
                }
                return next(context);
            });
            page.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
            page.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = Path });
        });
        return app;
    }
}
