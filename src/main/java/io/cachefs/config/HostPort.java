package io.cachefs.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * A {@code host:port} the user gave: a host name, an IPv4 literal, an IPv6 literal in brackets,
 * or, where the value allows it, no host at all ({@code :9100}). Every address CacheFS reads from
 * a flag or a service file is parsed here, once: {@code --admin}, {@code --listen}, the
 * {@code host:port} items of {@code --peers} and the {@code NAME:PORT} of its {@code dns:} items,
 * {@code cachefs status --admin}.
 *
 * <p>What an empty host means depends on who listens, so the parser keeps it empty and the
 * listener says: {@link #orHost(String)} with {@link #ALL_INTERFACES} for the peer block server
 * (the group must reach it), with {@link #LOOPBACK} for the admin endpoint (metrics and status
 * are not for the network unless asked for by name, e.g. {@code 0.0.0.0:9100}).
 *
 * <p>Hosts are kept lower-case (DNS names are case-blind, and a peer's spelling is its name in
 * the rendezvous ring) and IPv6 literals without their brackets; {@link #toString()} writes them
 * back with brackets, so it parses to the same value.
 *
 * @param host a host name or IP literal, lower-case, IPv6 without brackets; empty for "not given"
 * @param port 1..65535
 */
public record HostPort(String host, int port) {
    /** The host an empty one means for a server the peer group must reach. */
    public static final String ALL_INTERFACES = "0.0.0.0";
    /** The host an empty one means for a server only this machine should reach by default. */
    public static final String LOOPBACK = "127.0.0.1";
    private static final String HOST_PORT = "host:port";

    public HostPort {
        if (host == null) {
            throw new IllegalArgumentException("host is missing: write host:port");
        }
        String problem = host.isEmpty() ? null : hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException("host \"" + host + "\" " + problem);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 1..65535");
        }
        host = host.toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code :port}.
     *
     * @param what how the error names the value, e.g. "admin address" or "--peers item"
     * @throws IllegalArgumentException one line: {@code what "text" is not host:port: why}
     */
    public static HostPort parse(String what, String text) {
        return parse(what, text, "", HOST_PORT);
    }

    /** Parses like {@link #parse} and refuses an empty host: for addresses others connect to. */
    public static HostPort parseWithHost(String what, String text) {
        return parseWithHost(what, text, "", HOST_PORT);
    }

    /**
     * Parses the {@code host:port} that follows {@code prefix} in {@code text} (which starts
     * with it), as in {@code dns:NAME:PORT}, and refuses an empty host.
     *
     * @param form how the error writes the form expected, e.g. {@code dns:NAME:PORT}
     * @throws IllegalArgumentException one line: {@code what "text" is not FORM: why}
     */
    public static HostPort parseWithHost(String what, String text, String prefix, String form) {
        HostPort parsed = parse(what, text, prefix, form);
        if (parsed.host.isEmpty()) {
            throw notForm(what, text, form, "host is empty");
        }
        return parsed;
    }

    private static HostPort parse(String what, String text, String prefix, String form) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing: write " + form);
        }
        if (!text.startsWith(prefix)) {
            throw notForm(what, text, form, "it does not start with " + prefix);
        }
        String rest = text.substring(prefix.length());
        String host;
        String port;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0) {
                throw notForm(what, text, form, "no ']' closes the IPv6 address");
            }
            if (close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
                throw notForm(what, text, form, "no :port after the IPv6 address");
            }
            host = rest.substring(1, close);
            port = rest.substring(close + 2);
            if (ipv6Literal(host) == null) {
                throw notForm(what, text, form, "\"" + host + "\" is not an IPv6 address");
            }
        } else {
            int colon = rest.lastIndexOf(':');
            if (colon < 0) {
                throw notForm(what, text, form, "no :port");
            }
            if (rest.indexOf(':') != colon) {
                throw notForm(what, text, form, "more than one ':'"
                        + (form.equals(HOST_PORT) ? " (write an IPv6 address as [v6]:port)" : ""));
            }
            host = rest.substring(0, colon);
            port = rest.substring(colon + 1);
            String problem = host.isEmpty() ? null : hostProblem(host);
            if (problem != null) {
                throw notForm(what, text, form, "host " + problem);
            }
        }
        return new HostPort(host, parsePort(what, text, form, port));
    }

    /** This address, with {@code host} in place of an empty one. */
    public HostPort orHost(String host) {
        return this.host.isEmpty() ? new HostPort(host, port) : this;
    }

    /** The socket address to bind or connect to; a host name is resolved now (literals need no DNS). */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** {@code http://host:port} for connecting, loopback for an empty host, an IPv6 host in brackets. */
    public String httpBase() {
        return "http://" + orHost(LOOPBACK);
    }

    /** The host as an IP address if it is an IP literal, else null (a name, which needs DNS, or empty). */
    public InetAddress literal() {
        if (host.indexOf(':') >= 0) {
            return ipv6Literal(host);
        }
        if (host.isEmpty()) {
            return null;
        }
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }

    /** {@code host:port}, {@code [v6]:port} or {@code :port}: parses back to this value. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static int parsePort(String what, String text, String form, String port) {
        if (port.isEmpty()) {
            throw notForm(what, text, form, "the port is empty");
        }
        if (port.length() > 9 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw notForm(what, text, form, "port \"" + port + "\" is not a number");
        }
        int value = Integer.parseInt(port);
        if (value < 1 || value > 65535) {
            throw notForm(what, text, form, "port " + value + " is not in 1..65535");
        }
        return value;
    }

    private static IllegalArgumentException notForm(String what, String text, String form, String why) {
        return new IllegalArgumentException(what + " \"" + text + "\" is not " + form + ": " + why);
    }

    /** Why {@code host} (not empty) cannot be a host, or null if it can. */
    private static String hostProblem(String host) {
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
