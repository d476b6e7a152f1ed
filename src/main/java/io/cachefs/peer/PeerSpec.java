package io.cachefs.peer;

import io.cachefs.config.HostPort;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Who is in the peer group, as the user wrote it ({@code --peers} or the service file's
 * {@code cache.peers}): a list of items, each one of
 * <ul>
 *   <li>{@code host:port} or {@code [v6]:port} — one member;
 *   <li>{@code dns:NAME:PORT} — every address NAME resolves to, re-resolved every few seconds,
 *       so a Kubernetes headless Service's name works as is;
 *   <li>{@code file:PATH} — one {@code host:port} per line ({@code #} comments and blank lines
 *       ignored), re-read when it changes.
 * </ul>
 * The spec only says where to look; {@link Membership} turns it into members. An empty spec is a
 * group of one.
 *
 * @param items the items in the order given
 */
public record PeerSpec(List<Item> items) {
    /** One {@code --peers} item. */
    public sealed interface Item permits Static, Dns, File {
    }

    /** A member named directly. */
    public record Static(PeerAddress address) implements Item {
        public Static {
            Objects.requireNonNull(address, "address");
        }
    }

    /**
     * Every address the host of {@code address} resolves to, each listening on its port.
     *
     * @param address a DNS name (or an IPv4 literal, which resolves to itself) and a port
     */
    public record Dns(HostPort address) implements Item {
        public Dns {
            Objects.requireNonNull(address, "address");
            if (address.host().isEmpty() || address.host().indexOf(':') >= 0) {
                throw new IllegalArgumentException("dns:" + address + " needs a DNS name");
            }
        }

        /** The name to resolve. */
        public String name() {
            return address.host();
        }

        public int port() {
            return address.port();
        }
    }

    /** The members listed in a file. */
    public record File(Path path) implements Item {
        public File {
            Objects.requireNonNull(path, "path");
        }
    }

    private static final String DNS = "dns:";
    private static final String FILE = "file:";
    private static final String DNS_FORM = "dns:NAME:PORT";
    private static final String FORMS = "host:port, " + DNS_FORM + " or file:PATH";

    public PeerSpec {
        items = List.copyOf(items);
    }

    /** No peers: this instance alone. */
    public static PeerSpec none() {
        return new PeerSpec(List.of());
    }

    /** Parses the {@code --peers} value: items separated by commas, blanks around them ignored. */
    public static PeerSpec parse(String commaList) {
        if (commaList == null || commaList.isBlank()) {
            return none();
        }
        return parseItems(List.of(commaList.split(",", -1)), "--peers item");
    }

    /**
     * Parses items already split, as in the service file's JSON array {@code cache.peers};
     * errors name the item as a {@code cache.peers} item.
     */
    public static PeerSpec of(List<String> items) {
        return parseItems(items, "cache.peers item");
    }

    private static PeerSpec parseItems(List<String> texts, String what) {
        List<Item> items = new ArrayList<>(texts.size());
        for (String text : texts) {
            items.add(parseItem(text == null ? "" : text.strip(), what));
        }
        return new PeerSpec(items);
    }

    private static Item parseItem(String text, String what) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException(what + " \"\" is empty: write " + FORMS);
        }
        if (text.startsWith(DNS)) {
            return parseDns(text, what);
        }
        if (text.startsWith(FILE)) {
            String path = text.substring(FILE.length()).strip();
            if (path.isEmpty()) {
                throw new IllegalArgumentException(what + " \"" + text + "\" needs a path: file:PATH");
            }
            return new File(Path.of(path));
        }
        return new Static(PeerAddress.parse(text, what));
    }

    private static Dns parseDns(String text, String what) {
        HostPort address = HostPort.parseWithHost(what, text, DNS, DNS_FORM);
        if (address.host().indexOf(':') >= 0) {
            throw new IllegalArgumentException(what + " \"" + text + "\" is not " + DNS_FORM
                    + ": NAME is an IPv6 address, not a DNS name");
        }
        return new Dns(address);
    }

    @Override
    public String toString() {
        List<String> texts = new ArrayList<>(items.size());
        for (Item item : items) {
            texts.add(switch (item) {
                case Static s -> s.address().toString();
                case Dns d -> DNS + d.address();
                case File f -> FILE + f.path();
            });
        }
        return String.join(",", texts);
    }
}
