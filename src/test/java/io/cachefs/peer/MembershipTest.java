package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembershipTest {

    private static final long SECOND = 1_000_000_000L;
    private static final PeerFetch.Failed DOWN = new PeerFetch.Failed(PeerFetch.Kind.REFUSED, "connection refused");
    private static final PeerFetch.Failed TIMED_OUT = new PeerFetch.Failed(PeerFetch.Kind.TIMEOUT, "no answer within 2000 ms");

    /** Names the fake DNS answers; a name not in the map is NXDOMAIN. */
    private final Map<String, List<InetAddress>> dns = new ConcurrentHashMap<>();
    private final List<String> lookups = Collections.synchronizedList(new ArrayList<>());
    private final Membership.Resolver resolver = name -> {
        lookups.add(name);
        List<InetAddress> answer = dns.get(name);
        if (answer == null) {
            throw new UnknownHostException(name + ": Name or service not known");
        }
        return answer;
    };
    /** This machine's interface addresses as the fake sees them (loopback counts regardless). */
    private Set<InetAddress> localAddresses = Set.of();
    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    private final List<Membership> opened = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void closeAll() {
        opened.forEach(Membership::close);
    }

    private Membership membership(String peers, String listen) {
        return membership(peers, listen, Duration.ZERO);
    }

    private Membership membership(String peers, String listen, Duration refresh) {
        Membership membership = new Membership(PeerSpec.parse(peers), PeerAddress.parse(listen), resolver,
                () -> localAddresses, clock::get, refresh, warnings::add);
        opened.add(membership);
        return membership;
    }

    private static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    private static List<PeerAddress> peers(String... addresses) {
        return java.util.Arrays.stream(addresses).map(PeerAddress::parse).toList();
    }

    // --- recognising self ---

    @Test
    void theListenAddressInTheListIsSelfAndCountedOnce() {
        Membership membership = membership("127.0.0.1:7070,127.0.0.2:7070", "127.0.0.1:7070");

        assertEquals(peers("127.0.0.1:7070", "127.0.0.2:7070"), membership.members());
        assertEquals(PeerAddress.parse("127.0.0.1:7070"), membership.self());
        assertEquals(List.of(), warnings);
    }

    @Test
    void behindAWildcardSelfIsTheItemNamingALocalAddressOnTheListenPort() {
        Membership membership = new Membership(PeerSpec.parse("127.0.0.1:7070,127.0.0.2:7071"),
                PeerAddress.parse("0.0.0.0:7070"), resolver, Membership.LocalAddresses.ofInterfaces(), clock::get,
                Duration.ZERO, warnings::add);
        opened.add(membership);

        assertEquals(PeerAddress.parse("127.0.0.1:7070"), membership.self());
        assertEquals(peers("127.0.0.1:7070", "127.0.0.2:7071"), membership.members());
    }

    @Test
    void behindAWildcardSelfIsTheDnsAnswerThatIsAnInterfaceAddress() {
        localAddresses = Set.of(ip("10.0.0.5"));
        dns.put("cachefs.models.svc", List.of(ip("10.0.0.6"), ip("10.0.0.5"), ip("10.0.0.7")));

        Membership membership = membership("dns:cachefs.models.svc:7070", "[::]:7070");

        assertEquals(PeerAddress.parse("10.0.0.5:7070"), membership.self());
        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070", "10.0.0.7:7070"), membership.members());
    }

    @Test
    void aHostNameThatResolvesToTheListenAddressIsSelfUnderTheNameTheOthersUse() {
        dns.put("node-a", List.of(ip("10.0.0.5")));
        dns.put("node-b", List.of(ip("10.0.0.6")));

        Membership membership = membership("node-a:7070,node-b:7070", "10.0.0.5:7070");

        assertEquals(PeerAddress.parse("node-a:7070"), membership.self());
        assertEquals(peers("node-a:7070", "node-b:7070"), membership.members());
    }

    @Test
    void selfStaysRecognisedWhenItsHostNameStopsResolvingForAWhile() {
        dns.put("node-a", List.of(ip("10.0.0.5")));
        dns.put("node-b", List.of(ip("10.0.0.6")));
        Membership membership = membership("node-a:7070,node-b:7070", "10.0.0.5:7070");

        dns.remove("node-a");
        membership.refreshNow();

        assertEquals(PeerAddress.parse("node-a:7070"), membership.self());
        assertEquals(peers("node-a:7070", "node-b:7070"), membership.members());
        assertEquals(List.of("peers: host node-a failed, keeping its last addresses: node-a: Name or service not known"),
                warnings);
    }

    @Test
    void theSameAddressOnAnotherPortIsAnotherInstance() {
        Membership membership = membership("127.0.0.1:7070,127.0.0.1:7071", "127.0.0.1:7070");

        assertEquals(peers("127.0.0.1:7070", "127.0.0.1:7071"), membership.members());
    }

    @Test
    void anInstanceListedUnderTwoNamesIsCountedOnceAsTheSmallest() {
        dns.put("localhost", List.of(ip("127.0.0.1")));

        Membership membership = membership("localhost:7070,127.0.0.1:7070,10.9.9.9:7070", "0.0.0.0:7070");

        assertEquals(PeerAddress.parse("127.0.0.1:7070"), membership.self());
        assertEquals(peers("10.9.9.9:7070", "127.0.0.1:7070"), membership.members());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().startsWith("several peers are this instance"), warnings.getFirst());
    }

    @Test
    void anInstanceMissingFromTheListStillCountsItselfAndWarnsOnce() {
        Membership membership = membership("10.0.0.6:7070", "10.0.0.5:7070");
        membership.refreshNow();

        assertEquals(PeerAddress.parse("10.0.0.5:7070"), membership.self());
        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
        assertEquals(List.of("this instance (listening on 10.0.0.5:7070) is not among the peers [10.0.0.6:7070]:"
                + " the others will never ask it for blocks"), warnings);
    }

    @Test
    void withoutPeersTheGroupIsSelfAlone() {
        Membership membership = membership("", "0.0.0.0:7070");

        assertEquals(peers("0.0.0.0:7070"), membership.members());
        assertEquals(peers("0.0.0.0:7070"), membership.liveMembers());
        assertEquals(List.of(), warnings);
    }

    // --- following DNS and files ---

    @Test
    void dnsMembersFollowTheAnswerOnRefresh() {
        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070");

        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.7"), ip("10.0.0.8")));
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.7:7070", "10.0.0.8:7070"), membership.members());
    }

    @Test
    void aFailedLookupKeepsThePreviousMembersAndWarnsOncePerDistinctFailure() {
        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070");

        dns.remove("peers.svc");
        membership.refreshNow();
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
        assertEquals(List.of("peers: dns:peers.svc:7070 failed, keeping its previous members:"
                + " peers.svc: Name or service not known"), warnings);

        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.9")));
        membership.refreshNow();
        assertEquals(peers("10.0.0.5:7070", "10.0.0.9:7070"), membership.members());
    }

    @Test
    void anEmptyAnswerKeepsThePreviousMembersRatherThanEmptyingTheRing() {
        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070");

        dns.put("peers.svc", List.of());
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
        assertEquals(1, warnings.size());
    }

    @Test
    void aResolverThatThrowsAnythingDoesNotEscapeARefresh() {
        dns.put("peers.svc", List.of(ip("10.0.0.6")));
        Membership membership = new Membership(PeerSpec.parse("dns:peers.svc:7070"), PeerAddress.parse("10.0.0.5:7070"),
                name -> {
                    throw new SecurityException("lookups forbidden");
                }, () -> localAddresses, clock::get, Duration.ZERO, warnings::add);
        opened.add(membership);

        assertDoesNotThrow(membership::refreshNow);
        assertEquals(peers("10.0.0.5:7070"), membership.members());
    }

    @Test
    void fileMembersFollowTheFileWhenItChanges() throws IOException {
        Path file = dir.resolve("peers");
        Files.writeString(file, """
                # the model-serving pool
                10.0.0.5:7070

                10.0.0.6:7070   # rack 2
                """);
        Membership membership = membership("file:" + file, "10.0.0.5:7070");
        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());

        Files.writeString(file, "10.0.0.5:7070\n10.0.0.7:7070\n");
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.7:7070"), membership.members());
    }

    @Test
    void aMemberThatLeavesTheViewIsToldOnceSoWhatWasKnownOfItIsDropped() throws IOException {
        Path file = dir.resolve("peers");
        Files.writeString(file, "10.0.0.5:7070\n10.0.0.6:7070\n");
        Membership membership = membership("file:" + file, "10.0.0.5:7070");
        List<PeerAddress> left = new ArrayList<>();
        membership.onLeave(left::add);

        Files.writeString(file, "10.0.0.5:7070\n10.0.0.7:7070\n");
        membership.refreshNow();
        membership.refreshNow();
        assertEquals(peers("10.0.0.6:7070"), left, "the one that left, once; not the one that joined");

        Files.writeString(file, "10.0.0.5:7070\n10.0.0.6:7070\n10.0.0.7:7070\n");
        membership.refreshNow();
        assertEquals(peers("10.0.0.6:7070"), left, "coming back is no leave");
    }

    @Test
    void aFileWithABadLineKeepsThePreviousMembersAndNamesTheLine() throws IOException {
        Path file = dir.resolve("peers");
        Files.writeString(file, "10.0.0.5:7070\n10.0.0.6:7070\n");
        Membership membership = membership("file:" + file, "10.0.0.5:7070");

        Files.writeString(file, "10.0.0.5:7070\n10.0.0.6\n");
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
        assertEquals(List.of("peers: file:" + file + " failed, keeping its previous members:"
                + " line 2 \"10.0.0.6\" is not host:port: no :port"), warnings);
    }

    @Test
    void aFileThatDoesNotExistYetIsFollowedOnceItIsWritten() throws IOException {
        Path file = dir.resolve("peers");
        Membership membership = membership("file:" + file, "10.0.0.5:7070");
        assertEquals(peers("10.0.0.5:7070"), membership.members());
        assertEquals(List.of("peers: file:" + file + " failed, keeping its previous members: no such file"), warnings);

        Files.writeString(file, "10.0.0.5:7070\n10.0.0.6:7070\n");
        membership.refreshNow();

        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
    }

    @Test
    void theRefreshThreadFollowsDnsWithoutBeingAsked() throws InterruptedException {
        dns.put("peers.svc", List.of(ip("10.0.0.5")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070", Duration.ofMillis(20));

        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        long deadline = System.nanoTime() + 5 * SECOND;
        while (membership.members().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }

        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.members());
    }

    @Test
    void closingStopsTheRefreshes() throws InterruptedException {
        dns.put("peers.svc", List.of(ip("10.0.0.5")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070", Duration.ofMillis(10));
        int first = lookups.size();
        long deadline = System.nanoTime() + 5 * SECOND;
        while (lookups.size() < first + 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(lookups.size() >= first + 3, "the refreshes run before the close: " + lookups.size());

        membership.close();
        Thread.sleep(50);
        int after = lookups.size();
        Thread.sleep(100);

        assertEquals(after, lookups.size(), "and not after it");
    }

    // --- health ---

    @Test
    void aFailedPeerIsLeftAloneUntilItsBackoffPasses() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070", "10.0.0.5:7070");
        PeerAddress peer = PeerAddress.parse("10.0.0.6:7070");

        membership.markFailed(peer, DOWN);
        assertFalse(membership.isLive(peer));
        assertEquals(peers("10.0.0.5:7070"), membership.liveMembers());

        clock.addAndGet(5 * SECOND - 1);
        assertFalse(membership.isLive(peer));

        clock.addAndGet(1);
        assertTrue(membership.isLive(peer));
        assertEquals(peers("10.0.0.5:7070", "10.0.0.6:7070"), membership.liveMembers());
    }

    @Test
    void theBackoffDoublesWithEachFailureUpToAMinute() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070", "10.0.0.5:7070");
        PeerAddress peer = PeerAddress.parse("10.0.0.6:7070");
        List<Long> backoffs = new ArrayList<>();

        for (int i = 0; i < 6; i++) {
            membership.markFailed(peer, DOWN);
            long down = 0;
            while (!membership.isLive(peer)) {
                clock.addAndGet(SECOND);
                down++;
            }
            backoffs.add(down);
        }

        assertEquals(List.of(5L, 10L, 20L, 40L, 60L, 60L), backoffs);
    }

    @Test
    void oneAnswerForgetsThePeersFailures() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070", "10.0.0.5:7070");
        PeerAddress peer = PeerAddress.parse("10.0.0.6:7070");
        membership.markFailed(peer, DOWN);
        membership.markFailed(peer, DOWN);

        membership.markAlive(peer);

        assertTrue(membership.isLive(peer));
        membership.markFailed(peer, DOWN);
        clock.addAndGet(5 * SECOND);
        assertTrue(membership.isLive(peer), "back-off starts over at 5 s");
    }

    @Test
    void aLonePeerThatTimesOutIsSkippedAtOnce() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070,10.0.0.7:7070", "10.0.0.5:7070");
        PeerAddress peer = PeerAddress.parse("10.0.0.6:7070");

        membership.markFailed(peer, TIMED_OUT);

        assertFalse(membership.isLive(peer), "one silent peer is a dead peer: one timeout, then the back-off");
    }

    @Test
    void timeoutsFromThreePeersAtOnceAreStrikesAndASecondOneSkipsThePeer() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070,10.0.0.7:7070,10.0.0.8:7070,10.0.0.9:7070",
                "10.0.0.5:7070");
        List<PeerAddress> others = peers("10.0.0.6:7070", "10.0.0.7:7070", "10.0.0.8:7070");

        membership.markFailed(others.get(0), TIMED_OUT);
        clock.addAndGet(SECOND);
        membership.markFailed(others.get(1), TIMED_OUT);
        assertFalse(membership.isLive(others.get(0)));
        assertFalse(membership.isLive(others.get(1)));
        clock.addAndGet(SECOND);
        membership.markFailed(others.get(2), TIMED_OUT);

        assertEquals(membership.members(), membership.liveMembers(),
                "three peers silent within 3 s point at this member's own link: all get another try");

        clock.addAndGet(SECOND);
        membership.markFailed(others.get(1), TIMED_OUT);
        assertFalse(membership.isLive(others.get(1)), "a second timeout within 10 s skips the peer");
        assertTrue(membership.isLive(others.get(0)));

        membership.markFailed(PeerAddress.parse("10.0.0.9:7070"), DOWN);
        assertFalse(membership.isLive(PeerAddress.parse("10.0.0.9:7070")), "a refusal is no timeout: skipped at once");
    }

    @Test
    void timeoutsSpreadOverMoreThanTheWindowBackEachPeerOff() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070,10.0.0.7:7070,10.0.0.8:7070", "10.0.0.5:7070");
        List<PeerAddress> others = peers("10.0.0.6:7070", "10.0.0.7:7070", "10.0.0.8:7070");

        membership.markFailed(others.get(0), TIMED_OUT);
        clock.addAndGet(2 * SECOND);
        membership.markFailed(others.get(1), TIMED_OUT);
        clock.addAndGet(2 * SECOND);
        membership.markFailed(others.get(2), TIMED_OUT);

        assertEquals(peers("10.0.0.5:7070"), membership.liveMembers(), "two in 3 s at most: each one a dead peer");
    }

    @Test
    void selfIsAlwaysLive() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070", "10.0.0.5:7070");

        membership.markFailed(membership.self(), DOWN);

        assertTrue(membership.isLive(membership.self()));
        assertEquals(membership.members(), membership.liveMembers());
    }

    @Test
    void statusShowsEveryMemberWithItsHealth() {
        Membership membership = membership("10.0.0.5:7070,10.0.0.6:7070,10.0.0.7:7070", "10.0.0.5:7070");
        membership.markFailed(PeerAddress.parse("10.0.0.7:7070"), DOWN);
        membership.markFailed(PeerAddress.parse("10.0.0.7:7070"), DOWN);
        clock.addAndGet(3 * SECOND);

        assertEquals(List.of(
                new Membership.MemberStatus(PeerAddress.parse("10.0.0.5:7070"), true, true, 0, Duration.ZERO),
                new Membership.MemberStatus(PeerAddress.parse("10.0.0.6:7070"), false, true, 0, Duration.ZERO),
                new Membership.MemberStatus(PeerAddress.parse("10.0.0.7:7070"), false, false, 2, Duration.ofSeconds(7))),
                membership.status());
    }

    @Test
    void aPeerThatLeavesAndReturnsStartsWithoutItsOldFailures() {
        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        Membership membership = membership("dns:peers.svc:7070", "10.0.0.5:7070");
        PeerAddress peer = PeerAddress.parse("10.0.0.6:7070");
        membership.markFailed(peer, DOWN);

        dns.put("peers.svc", List.of(ip("10.0.0.5")));
        membership.refreshNow();
        dns.put("peers.svc", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
        membership.refreshNow();

        assertTrue(membership.isLive(peer));
    }
}
