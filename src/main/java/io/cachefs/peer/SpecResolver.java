package io.cachefs.peer;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns a {@link PeerSpec} into the addresses it names right now, and host names into IP addresses
 * (for self recognition), each time {@link #candidates()} is called.
 *
 * <p>Failure never shrinks the group: an item whose name does not resolve, or whose file cannot be
 * read or has a bad line, contributes what it contributed last time (nothing, the first time), and
 * a host that stops resolving keeps its last addresses. A flaky DNS server must not make members
 * disappear, because every disappearance moves blocks to new owners. Each item's failure is
 * warned about once per distinct message, and its recovery once, so a refresh every few seconds
 * does not flood the log.
 *
 * <p>Not thread-safe: {@link Membership} calls it under its refresh lock.
 */
final class SpecResolver {
    private final PeerSpec spec;
    private final Membership.Resolver resolver;
    private final Consumer<String> warn;
    private final Consumer<String> info;
    /** Per item, what it resolved to last time it worked. */
    private final Map<PeerSpec.Item, List<PeerAddress>> lastGood = new HashMap<>();
    /** Per file item, the text last parsed, so an unchanged file is neither re-parsed nor logged. */
    private final Map<PeerSpec.File, String> lastText = new HashMap<>();
    /** Per host name, its addresses last time it resolved. */
    private final Map<String, List<InetAddress>> hostAddresses = new HashMap<>();
    /** Per item or host, the failure last warned about, until it recovers. */
    private final Map<String, String> failing = new HashMap<>();

    SpecResolver(PeerSpec spec, Membership.Resolver resolver, Consumer<String> warn, Consumer<String> info) {
        this.spec = spec;
        this.resolver = resolver;
        this.warn = warn;
        this.info = info;
    }

    /** Every address the spec names now, in no particular order, possibly with repeats. */
    List<PeerAddress> candidates() {
        List<PeerAddress> all = new ArrayList<>();
        for (PeerSpec.Item item : spec.items()) {
            String what = describe(item);
            try {
                List<PeerAddress> now = switch (item) {
                    case PeerSpec.Static s -> List.of(s.address());
                    case PeerSpec.Dns d -> resolveDns(d);
                    case PeerSpec.File f -> readFile(f);
                };
                lastGood.put(item, now);
                recovered(what);
            } catch (IOException | RuntimeException e) {
                failed(what, e, "keeping its previous members");
            }
            all.addAll(lastGood.getOrDefault(item, List.of()));
        }
        return all;
    }

    /**
     * The IP addresses of {@code peer}'s host: the literal itself, or what the name resolves to
     * (its last good answer if it fails now, empty if it never resolved).
     */
    List<InetAddress> addressesOf(PeerAddress peer) {
        InetAddress literal = peer.literal();
        if (literal != null) {
            return List.of(literal);
        }
        String what = "host " + peer.host();
        try {
            List<InetAddress> now = List.copyOf(resolver.resolve(peer.host()));
            hostAddresses.put(peer.host(), now);
            recovered(what);
            return now;
        } catch (IOException | RuntimeException e) {
            failed(what, e, "keeping its last addresses");
            return hostAddresses.getOrDefault(peer.host(), List.of());
        }
    }

    /** Forgets hosts no longer named, so churn in a file cannot grow the cache without bound. */
    void retainHosts(Set<String> hosts) {
        hostAddresses.keySet().retainAll(hosts);
    }

    private List<PeerAddress> resolveDns(PeerSpec.Dns item) throws IOException {
        List<InetAddress> addresses = resolver.resolve(item.name());
        if (addresses.isEmpty()) {
            // Treated as a failure, not as "no peers": a headless Service with no ready pod for a
            // moment must not empty the ring.
            throw new IOException("resolves to no address");
        }
        Set<PeerAddress> peers = new HashSet<>();
        for (InetAddress address : addresses) {
            peers.add(new PeerAddress(hostText(address), item.port()));
        }
        return List.copyOf(peers);
    }

    private List<PeerAddress> readFile(PeerSpec.File item) throws IOException {
        String text = Files.readString(item.path());
        // Reading a small file every few seconds is cheaper and surer than trusting mtimes, whose
        // granularity can hide a quick rewrite of the same length.
        if (text.equals(lastText.get(item)) && lastGood.containsKey(item)) {
            return lastGood.get(item);
        }
        List<PeerAddress> peers = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            line = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (!line.isEmpty()) {
                peers.add(PeerAddress.parse(line, "line " + (i + 1)));
            }
        }
        lastText.put(item, text);
        return List.copyOf(peers);
    }

    /** An address as a host: IPv6 without its scope, which is local to one machine's interfaces. */
    private static String hostText(InetAddress address) {
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        return address instanceof Inet6Address && scope >= 0 ? text.substring(0, scope) : text;
    }

    private void failed(String what, Exception e, String consequence) {
        String message = e instanceof NoSuchFileException ? "no such file"
                : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (!message.equals(failing.put(what, message))) {
            warn.accept("peers: " + what + " failed, " + consequence + ": " + message);
        }
    }

    private void recovered(String what) {
        if (failing.remove(what) != null) {
            info.accept("peers: " + what + " works again");
        }
    }

    private static String describe(PeerSpec.Item item) {
        return switch (item) {
            case PeerSpec.Static s -> s.address().toString();
            case PeerSpec.Dns d -> "dns:" + d.name() + ":" + d.port();
            case PeerSpec.File f -> "file:" + f.path();
        };
    }
}
