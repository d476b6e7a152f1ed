package io.cachefs.peer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

    /** Every address {@code name} resolves to, each listening on {@code port}. */
    public record Dns(String name, int port) implements Item {
        public Dns {
            Objects.requireNonNull(name, "name");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("dns:" + name + ":" + port + " has a port not in 1..65535");
            }
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
    private static final String FORMS = "host:port, dns:NAME:PORT or file:PATH";

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
        String rest = text.substring(DNS.length());
        int colon = rest.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(what + " \"" + text + "\" needs a port: dns:NAME:PORT");
        }
        String name = rest.substring(0, colon);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(what + " \"" + text + "\" needs a name: dns:NAME:PORT");
        }
        if (name.indexOf(':') >= 0) {
            throw new IllegalArgumentException(what + " \"" + text
                    + "\" has more than one ':' in its name: dns:NAME:PORT takes a DNS name");
        }
        String port = rest.substring(colon + 1);
        if (port.isEmpty()) {
            throw new IllegalArgumentException(what + " \"" + text + "\" needs a port: dns:NAME:PORT");
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    what + " \"" + text + "\" has a port that is not a number: dns:NAME:PORT");
        }
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException(
                    what + " \"" + text + "\" has port " + number + ", not in 1..65535");
        }
        try {
            new PeerAddress(name, number);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " \"" + text + "\" has a name that is not a DNS name");
        }
        return new Dns(name.toLowerCase(Locale.ROOT), number);
    }

    @Override
    public String toString() {
        List<String> texts = new ArrayList<>(items.size());
        for (Item item : items) {
            texts.add(switch (item) {
                case Static s -> s.address().toString();
                case Dns d -> DNS + d.name() + ":" + d.port();
                case File f -> FILE + f.path();
            });
        }
        return String.join(",", texts);
    }
}
