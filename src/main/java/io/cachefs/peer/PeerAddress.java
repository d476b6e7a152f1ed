package io.cachefs.peer;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.Locale;

/**
 * Where one member of the peer group listens: a host (name, IPv4 or IPv6 literal) and a port.
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
        String problem = hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException("peer host \"" + host + "\" " + problem);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("peer port " + port + " is not in 1..65535");
        }
        host = host.toLowerCase(Locale.ROOT);
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
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing: write host:port");
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw notHostPort(what, text, "no ']' closes the IPv6 address");
            }
            if (close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw notHostPort(what, text, "no :port after the IPv6 address");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (ipv6Literal(host) == null) {
                throw notHostPort(what, text, "\"" + host + "\" is not an IPv6 address");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw notHostPort(what, text, "no :port");
            }
            if (text.indexOf(':') != colon) {
                throw notHostPort(what, text, "more than one ':' (write an IPv6 address as [v6]:port)");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            String problem = hostProblem(host);
            if (problem != null) {
                throw notHostPort(what, text, "host " + problem);
            }
        }
        return new PeerAddress(host, parsePort(text, port, what));
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
        if (host.indexOf(':') >= 0) {
            return ipv6Literal(host);
        }
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }

    @Override
    public int compareTo(PeerAddress other) {
        return ORDER.compare(this, other);
    }

    /** {@code host:port}, or {@code [v6]:port}: the member's name in the ring. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    static int parsePort(String text, String port, String what) {
        if (port.isEmpty()) {
            throw notHostPort(what, text, "the port is empty");
        }
        int value;
        try {
            value = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw notHostPort(what, text, "port \"" + port + "\" is not a number");
        }
        if (value < 1 || value > 65535) {
            throw notHostPort(what, text, "port " + value + " is not in 1..65535");
        }
        return value;
    }

    private static IllegalArgumentException notHostPort(String what, String text, String why) {
        return new IllegalArgumentException(what + " \"" + text + "\" is not host:port: " + why);
    }

    /** Why {@code host} cannot be a host, or null if it can. */
    private static String hostProblem(String host) {
        if (host == null || host.isEmpty()) {
            return "is empty";
        }
        if (host.indexOf(':') >= 0) {
            return ipv6Literal(host) == null ? "is neither a host name nor an IP address" : null;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            if (!allowed) {
                return "has '" + c + "', which a host name cannot have";
            }
        }
        return null;
    }

    private static InetAddress ipv6Literal(String host) {
        try {
            return InetAddress.ofLiteral(host) instanceof Inet6Address v6 ? v6 : null;
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }
}
