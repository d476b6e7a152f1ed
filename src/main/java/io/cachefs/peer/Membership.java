package io.cachefs.peer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The peer group as this instance sees it: who is in it (from a {@link PeerSpec}, refreshed every
 * few seconds), which of them is this instance, and which are live.
 *
 * <h2>Members</h2>
 * {@link #members()} is every address the spec names now, plus this instance, without repeats,
 * sorted. It is a snapshot replaced whole on each refresh, so readers never lock. A failed DNS
 * lookup or file read keeps that item's previous members (see {@code SpecResolver}): losing a
 * member moves its blocks, so the group only shrinks on a positive answer.
 *
 * <h2>Recognising self</h2>
 * Every instance usually gets the same {@code --peers}, so the list names this instance too, and
 * it must be counted once and under the same name the others use, or the instances would rank
 * blocks over different rings. An item is this instance when its port is the listen port and
 * <ul>
 *   <li>it equals the listen address, or
 *   <li>the listen host is a specific address and the item's host resolves to it (an item
 *       {@code node-a:7070} is self for {@code --listen 10.0.0.5:7070} when node-a is 10.0.0.5), or
 *   <li>the listen host is a wildcard (0.0.0.0, ::) and the item's host resolves to an address of
 *       this machine: a loopback address or any address of a network interface.
 * </ul>
 * Self's name in the ring is then the matching item (the smallest, if several match), so all
 * instances agree on it; the other matches are dropped, being this instance under another name.
 * If nothing matches, self is the listen address itself and a warning says the others will never
 * ask this instance for blocks.
 *
 * <h2>Health</h2>
 * A peer whose request failed is {@linkplain #markFailed marked}; it is left out of
 * {@link #liveMembers()} for a back-off of 5 s doubling to 60 s, so a dead peer costs a requester
 * one timeout per back-off, not one per miss. One success ({@link #markAlive}) forgets it. Self is
 * always live.
 *
 * <h2>Threads</h2>
 * One daemon thread refreshes the members every interval; {@link #refreshNow()} does the same on
 * the caller's thread (refreshes are serialised). Every other method is safe from any thread.
 */
public final class Membership implements AutoCloseable {
    /** Looks a host name up; the default is {@link InetAddress#getAllByName}. */
    @FunctionalInterface
    public interface Resolver {
        List<InetAddress> resolve(String name) throws IOException;

        static Resolver system() {
            return name -> List.of(InetAddress.getAllByName(name));
        }
    }

    /** This machine's addresses, for recognising self behind a wildcard listen address. */
    @FunctionalInterface
    interface LocalAddresses {
        Set<InetAddress> get() throws IOException;

        static LocalAddresses ofInterfaces() {
            return () -> {
                Set<InetAddress> all = new HashSet<>();
                try {
                    for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
                        all.addAll(nic.inetAddresses().toList());
                    }
                } catch (SocketException e) {
                    throw new IOException("cannot list network interfaces: " + e.getMessage(), e);
                }
                return all;
            };
        }
    }

    /**
     * One member as {@code /status} shows it.
     *
     * @param failures consecutive failed requests since it last answered
     * @param retryIn time left of its back-off; zero when live
     */
    public record MemberStatus(PeerAddress address, boolean self, boolean live, int failures, Duration retryIn) {
    }

    /** Often enough that a new pod joins within seconds, rarely enough to cost nothing. */
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(3);
    /** Long enough to skip a dead peer for many misses, short enough to notice it is back. */
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(5);
    /** A peer that stays dead is still retried once a minute, in case it returns. */
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private static final Logger log = LoggerFactory.getLogger(Membership.class);

    /** The members and which of them is self, replaced together so readers see one or the other. */
    private record Group(PeerAddress self, List<PeerAddress> members) {
    }

    private final PeerAddress listen;
    private final LocalAddresses localAddresses;
    private final SpecResolver specResolver;
    private final PeerHealth health;
    private final LongSupplier nanoClock;
    /** When the last "timeouts from many peers" line was logged: at most one a minute. */
    private volatile long suspectLoggedAt;
    private static final long SUSPECT_LOG_NANOS = 60_000_000_000L;
    private final Consumer<String> warn;
    private final Object refreshLock = new Object();
    private final ScheduledExecutorService refresher;
    private volatile Group group;
    /** Guarded by refreshLock: warnings about self, each given once until it changes. */
    private String selfWarning;
    /** Guarded by refreshLock: the last failure to list this machine's addresses, until it works. */
    private String localAddressWarning;
    /** Guarded by refreshLock: this machine's addresses when they could last be listed. */
    private Set<InetAddress> lastLocalAddresses = Set.of();
    /** Told of each member that leaves the view, on the refreshing thread. */
    private final List<Consumer<PeerAddress>> leaveListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A membership with the system resolver, the system clock and a refresh every 3 s. */
    public Membership(PeerSpec spec, PeerAddress listen) {
        this(spec, listen, Resolver.system(), System::nanoTime, DEFAULT_REFRESH);
    }

    /**
     * @param refreshInterval how often DNS names are re-resolved and files re-read; zero for
     *     never (tests call {@link #refreshNow()})
     */
    public Membership(PeerSpec spec, PeerAddress listen, Resolver resolver, LongSupplier nanoClock,
            Duration refreshInterval) {
        this(spec, listen, resolver, LocalAddresses.ofInterfaces(), nanoClock, refreshInterval, log::warn);
    }

    Membership(PeerSpec spec, PeerAddress listen, Resolver resolver, LocalAddresses localAddresses,
            LongSupplier nanoClock, Duration refreshInterval, Consumer<String> warn) {
        Objects.requireNonNull(spec, "spec");
        this.listen = Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(resolver, "resolver");
        this.localAddresses = Objects.requireNonNull(localAddresses, "localAddresses");
        this.warn = warn;
        this.specResolver = new SpecResolver(spec, resolver, warn, log::info);
        this.health = new PeerHealth(nanoClock, FIRST_BACKOFF, MAX_BACKOFF);
        this.nanoClock = nanoClock;
        this.suspectLoggedAt = nanoClock.getAsLong() - SUSPECT_LOG_NANOS - 1;
        if (refreshInterval.isNegative()) {
            throw new IllegalArgumentException("peer refresh interval is negative: " + refreshInterval);
        }
        // The first answer is awaited, so the ring is right from the first miss.
        refreshNow();
        if (refreshInterval.isZero()) {
            refresher = null;
        } else {
            refresher = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("cachefs-peer-membership").factory());
            long nanos = refreshInterval.toNanos();
            refresher.scheduleWithFixedDelay(this::refreshInBackground, nanos, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Every member including self, without repeats, sorted. */
    public List<PeerAddress> members() {
        return group.members();
    }

    /** This instance's name in the ring. */
    public PeerAddress self() {
        return group.self();
    }

    /** The members not in a failure back-off, self always included, sorted. */
    public List<PeerAddress> liveMembers() {
        Group g = group;
        List<PeerAddress> live = new ArrayList<>(g.members().size());
        for (PeerAddress member : g.members()) {
            if (member.equals(g.self()) || health.isLive(member)) {
                live.add(member);
            }
        }
        return List.copyOf(live);
    }

    /** False while {@code peer} is in a back-off after a failure. */
    public boolean isLive(PeerAddress peer) {
        return peer.equals(group.self()) || health.isLive(peer);
    }

    /**
     * A request to {@code peer} failed or timed out ({@code why}, for the log): skip it for a
     * back-off, longer each time.
     */
    public void markFailed(PeerAddress peer, PeerFetch.Failed why) {
        if (!peer.equals(group.self())) {
            boolean wasLive = health.isLive(peer);
            if (why.kind() != PeerFetch.Kind.TIMEOUT) {
                health.failed(peer);
            } else {
                List<PeerAddress> pardoned = health.timedOut(peer);
                long now = nanoClock.getAsLong();
                if (health.suspectsItself() && now - suspectLoggedAt > SUSPECT_LOG_NANOS) {
                    suspectLoggedAt = now;
                    log.info("requests to {} peers timed out within {} s: this member's own link or machine is "
                            + "likely the trouble, so a peer is skipped only on its second timeout{}",
                            PeerHealth.SUSPECT_PEERS, PeerHealth.SUSPECT_WINDOW_NANOS / 1_000_000_000L,
                            pardoned.isEmpty() ? "" : " (trying " + pardoned + " again)");
                }
            }
            if (wasLive && !health.isLive(peer)) { // once per back-off: why this member now reads what that peer holds elsewhere
                log.info("skipping peer {} for {} ms: a request to it failed ({}: {})", peer,
                        health.retryIn(peer).toMillis(), why.kind().name().toLowerCase(Locale.ROOT), why.reason());
            }
        }
    }

    /** {@code peer} answered: forget its failures. */
    public void markAlive(PeerAddress peer) {
        health.alive(peer);
    }

    /** Every member with its health, in member order. */
    public List<MemberStatus> status() {
        Group g = group;
        List<MemberStatus> status = new ArrayList<>(g.members().size());
        for (PeerAddress member : g.members()) {
            boolean self = member.equals(g.self());
            status.add(self
                    ? new MemberStatus(member, true, true, 0, Duration.ZERO)
                    : new MemberStatus(member, false, health.isLive(member), health.failures(member),
                            health.retryIn(member)));
        }
        return List.copyOf(status);
    }

    /** Re-resolves names and re-reads files now, on this thread. Never throws for a bad answer. */
    public void refreshNow() {
        synchronized (refreshLock) {
            List<PeerAddress> candidates = specResolver.candidates();
            Set<String> hosts = new HashSet<>(Set.of(listen.host()));
            Set<PeerAddress> selves = new TreeSet<>();
            Set<PeerAddress> members = new TreeSet<>();
            // Asked once per refresh, not per candidate: a DNS answer can name many pods.
            Set<InetAddress> listenAddresses = listen.isWildcard()
                    ? localAddresses()
                    : Set.copyOf(specResolver.addressesOf(listen));
            for (PeerAddress candidate : candidates) {
                hosts.add(candidate.host());
                (isSelf(candidate, listenAddresses) ? selves : members).add(candidate);
            }
            specResolver.retainHosts(hosts);
            PeerAddress self = selves.isEmpty() ? listen : selves.iterator().next();
            warnAboutSelf(candidates, selves);
            members.add(self);
            Group next = new Group(self, List.copyOf(members));
            Group before = group;
            if (before == null || !before.equals(next)) {
                log.info("peer group: {} (self {})", next.members(), self);
            }
            group = next;
            health.retainOnly(members);
            if (before != null) {
                for (PeerAddress member : before.members()) {
                    if (!members.contains(member)) {
                        leaveListeners.forEach(listener -> listener.accept(member));
                    }
                }
            }
        }
    }

    /**
     * Tells {@code listener} of every member that leaves the view from now on: what is known of
     * it (its holdings) is stale, and a new instance may come back at its address empty-handed.
     */
    void onLeave(Consumer<PeerAddress> listener) {
        leaveListeners.add(listener);
    }

    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }

    /**
     * The self rule of the class comment.
     *
     * @param listenAddresses the listen host's addresses, or this machine's if it is a wildcard
     */
    private boolean isSelf(PeerAddress candidate, Set<InetAddress> listenAddresses) {
        if (candidate.port() != listen.port()) {
            return false;
        }
        if (candidate.equals(listen)) {
            return true;
        }
        for (InetAddress address : specResolver.addressesOf(candidate)) {
            // Behind a wildcard, every loopback address reaches this server, not only 127.0.0.1.
            if (listenAddresses.contains(address) || (listen.isWildcard() && address.isLoopbackAddress())) {
                return true;
            }
        }
        return false;
    }

    /** This machine's addresses; the last good list if the interfaces cannot be listed now. */
    private Set<InetAddress> localAddresses() {
        try {
            lastLocalAddresses = Set.copyOf(localAddresses.get());
            localAddressWarning = null;
        } catch (IOException | RuntimeException e) {
            String message = "cannot list this machine's addresses, using the last list: " + e.getMessage();
            if (!message.equals(localAddressWarning)) {
                localAddressWarning = message;
                warn.accept(message);
            }
        }
        return lastLocalAddresses;
    }

    private void warnAboutSelf(List<PeerAddress> candidates, Set<PeerAddress> selves) {
        if (!candidates.isEmpty() && selves.isEmpty()) {
            warnOnce("this instance (listening on " + listen + ") is not among the peers " + new TreeSet<>(candidates)
                    + ": the others will never ask it for blocks");
        } else if (selves.size() > 1) {
            warnOnce("several peers are this instance: " + selves + "; counting it once, as "
                    + selves.iterator().next());
        } else {
            selfWarning = null;
        }
    }

    private void warnOnce(String message) {
        if (!message.equals(selfWarning)) {
            selfWarning = message;
            warn.accept(message);
        }
    }

    private void refreshInBackground() {
        try {
            refreshNow();
        } catch (RuntimeException e) {
            // A thrown exception would silently cancel every later refresh.
            log.warn("peer membership refresh failed, keeping the current members", e);
        }
    }
}
