using System.Net;
using System.Net.Sockets;

namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// The SSRF rule (OWASP API7): a tenant's URL is an attacker's URL. Loopback, private, link-local
/// (cloud metadata), shared, multicast and unspecified addresses are refused unless
/// <see cref="NotificationsOptions.AllowPrivateNetworks"/>; the check is made on the address
/// actually connected to (<see cref="ConnectAsync"/>), so a DNS answer that changes between a check
/// and the connection (rebinding) gains nothing.
/// </summary>
public static class AddressGuard
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.Broadcast) || address.Equals(IPAddress.IPv6None))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && (b[1] & 0xC0) == 64)     // 100.64/10, shared (carrier-grade NAT)
                || (b[0] == 169 && b[1] == 254)             // link-local, cloud metadata
                || (b[0] == 172 && (b[1] & 0xF0) == 16)     // 172.16/12
                || (b[0] == 192 && b[1] == 168)             // 192.168/16
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)  // 192.0.0/24, protocol assignments
                || (b[0] == 198 && (b[1] & 0xFE) == 18));   // 198.18/15, benchmarking
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC                    // fc00::/7, unique local
                || address.IsIPv4MappedToIPv6 || IsIPv4Compatible(b));
        }
        return false;
    }

    private static bool IsIPv4Compatible(byte[] b) => b.Take(12).All(x => x == 0);

    /// <summary>
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, keeps the addresses the
    /// rule allows, connects to one of them, and checks the address the socket is connected to.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = allowPrivate ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
        {
            throw new RefusedAddressException($"'{host}' resolves to no public address; refused (Notifications:AllowPrivateNetworks is false).");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            if (!allowPrivate && socket.RemoteEndPoint is IPEndPoint connected && !IsPublic(connected.Address))
            {
                throw new RefusedAddressException($"Connected to non-public address {connected.Address}; refused.");
            }
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The check at <c>PUT</c>: a literal address or a name that resolves to any address the rule
    /// refuses is an error message; a name that does not resolve now is left to the connect-time check.
    /// </summary>
    public static async Task<string?> CheckUrlAsync(Uri url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (allowPrivate)
        {
            return null;
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                addresses = await Dns.GetHostAddressesAsync(url.IdnHost, timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException)
            {
                return null;
            }
        }
        return addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused
            ? $"url resolves to {refused}, a loopback, private or link-local address; only public addresses are allowed."
            : null;
    }
}

/// <summary>A connection the SSRF rule refused.</summary>
public sealed class RefusedAddressException(string message) : IOException(message);
