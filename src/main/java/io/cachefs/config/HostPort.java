package io.cachefs.config;

/**
 * A {@code host:port} the user gave for an HTTP endpoint ({@code --admin}): a host name, an IPv4
 * literal, an IPv6 literal in brackets, or nothing (all interfaces when listening, loopback when
 * connecting). Parsed here once, for the daemon that listens and the commands that connect.
 *
 * @param host the host without brackets; empty for "any"
 * @param port 0..65535
 */
public record HostPort(String host, int port) {

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code :port}.
     *
     * @param what how the error names the value, e.g. "admin address"
     * @throws IllegalArgumentException naming {@code what} and showing the forms that work
     */
    public static HostPort parse(String what, String text) {
        int colon = text == null ? -1 : text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        boolean bracketed = host.startsWith("[") && host.endsWith("]");
        boolean bracketsBalanced = host.startsWith("[") == host.endsWith("]");
        if (colon < 0 || !bracketsBalanced || !isPort(text.substring(colon + 1))) {
            throw new IllegalArgumentException(what + " \"" + text
                    + "\" is not host:port: use e.g. 127.0.0.1:9100, [::1]:9100 or :9100 for all interfaces");
        }
        return new HostPort(bracketed ? host.substring(1, host.length() - 1) : host,
                Integer.parseInt(text.substring(colon + 1)));
    }

    /** The host to connect to: loopback when none was given. */
    public String connectHost() {
        return host.isEmpty() ? "127.0.0.1" : host;
    }

    /** {@code http://host:port} for connecting, with an IPv6 host in brackets. */
    public String httpBase() {
        String shown = connectHost().contains(":") ? "[" + connectHost() + "]" : connectHost();
        return "http://" + shown + ":" + port;
    }

    private static boolean isPort(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(Character::isDigit)) {
            return false;
        }
        return Integer.parseInt(text) <= 65535;
    }
}
