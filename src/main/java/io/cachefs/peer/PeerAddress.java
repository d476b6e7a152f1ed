package io.cachefs.peer;

import io.cachefs.config.HostPort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Comparator;

/**
 * Where one member of the peer group listens: a host (name, IPv4 or IPv6 literal) and a port.
 * The text is parsed by {@link HostPort}, the one parser of {@code host:port}; a member also
 * needs a host, since the others connect to it.
 *
 * <p>The text form is also the member's name in the rendezvous ring, so every instance must spell
 * a member the same way; hosts are therefore kept lower-case, and an IPv6 literal is stored
 * without its brackets and written with them ({@code [::1]:7070}), so that {@link #toString()}
 * parses back to the same address.
 *
 * @param host a host name or IP literal, lower-case, IPv6 without brackets
 * @param port 1..65535
 */
public record PeerAddress(String host, int port) implements Comparable<PeerAddress> {
    private static final Comparator<PeerAddress> ORDER =
            Comparator.comparing(PeerAddress::host).thenComparingInt(PeerAddress::port);

    public PeerAddress {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("peer host \"" + host + "\" is empty");
        }
        HostPort checked;
        try {
            checked = new HostPort(host, port);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("peer " + e.getMessage());
        }
        host = checked.host();
    }

    /** A member at {@code address}, whose host must not be empty. */
    public static PeerAddress of(HostPort address) {
        return new PeerAddress(address.host(), address.port());
    }

    /** Parses {@code host:port} or {@code [v6]:port}. */
    public static PeerAddress parse(String text) {
        return parse(text, "peer");
    }

    /**
     * Parses with error messages that start with {@code what}, so a bad {@code --peers} item is
     * reported as such rather than as a bare "peer".
     */
    static PeerAddress parse(String text, String what) {
        return of(HostPort.parseWithHost(what, text));
    }

    /** The socket address to connect or bind to; the host is resolved now (literals need no DNS). */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** True for 0.0.0.0 and ::, which a server binds to listen on every interface. */
    boolean isWildcard() {
        InetAddress literal = literal();
        return literal != null && literal.isAnyLocalAddress();
    }

    /** The host as an IP address if it is an IP literal, else null (a name, which needs DNS). */
    InetAddress literal() {
        return new HostPort(host, port).literal();
    }

    @Override
    public int compareTo(PeerAddress other) {
        return ORDER.compare(this, other);
    }

    /** {@code host:port}, or {@code [v6]:port}: the member's name in the ring. */
    @Override
    public String toString() {
        return new HostPort(host, port).toString();
    }
}
