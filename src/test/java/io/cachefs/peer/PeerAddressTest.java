package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerAddressTest {

    private static String error(String text) {
        return assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse(text)).getMessage();
    }

    @Test
    void parsesHostAndPort() {
        assertEquals(new PeerAddress("node-a.cachefs.svc", 7070), PeerAddress.parse("node-a.cachefs.svc:7070"));
        assertEquals(new PeerAddress("10.0.0.5", 1), PeerAddress.parse("10.0.0.5:1"));
        assertEquals(new PeerAddress("10.0.0.5", 65535), PeerAddress.parse("10.0.0.5:65535"));
    }

    @Test
    void parsesBracketedIpv6AndWritesItBackWithBrackets() {
        PeerAddress v6 = PeerAddress.parse("[fd00::5]:7070");

        assertEquals("fd00::5", v6.host());
        assertEquals(7070, v6.port());
        assertEquals("[fd00::5]:7070", v6.toString());
        assertEquals(v6, PeerAddress.parse(v6.toString()));
    }

    @Test
    void writesHostColonPortSoTheTextIsTheMembersNameInTheRing() {
        assertEquals("node-a:7070", PeerAddress.parse("node-a:7070").toString());
    }

    @Test
    void lowerCasesTheHostSoEveryInstanceSpellsAMemberAlike() {
        assertEquals(PeerAddress.parse("node-a:7070"), PeerAddress.parse("Node-A:7070"));
        assertEquals("[fd00::a]:7070", PeerAddress.parse("[FD00::A]:7070").toString());
    }

    @Test
    void rejectsAMissingPort() {
        assertEquals("peer \"node-a\" is not host:port: no :port", error("node-a"));
        assertEquals("peer \"node-a:\" is not host:port: the port is empty", error("node-a:"));
    }

    @Test
    void rejectsAPortThatIsNotANumberOrOutOfRange() {
        assertEquals("peer \"node-a:http\" is not host:port: port \"http\" is not a number", error("node-a:http"));
        assertEquals("peer \"node-a:0\" is not host:port: port 0 is not in 1..65535", error("node-a:0"));
        assertEquals("peer \"node-a:65536\" is not host:port: port 65536 is not in 1..65535", error("node-a:65536"));
    }

    @Test
    void rejectsAnEmptyHost() {
        assertEquals("peer \":7070\" is not host:port: host is empty", error(":7070"));
    }

    @Test
    void rejectsAHostWithCharactersNoHostNameHas() {
        assertEquals("peer \"http://node-a:7070\" is not host:port: more than one ':'"
                + " (write an IPv6 address as [v6]:port)", error("http://node-a:7070"));
        assertEquals("peer \"node a:7070\" is not host:port: host has ' ', which a host name cannot have",
                error("node a:7070"));
    }

    @Test
    void rejectsIpv6WithoutBracketsOrWithBrokenBrackets() {
        assertEquals("peer \"fd00::5:7070\" is not host:port: more than one ':' (write an IPv6 address as [v6]:port)",
                error("fd00::5:7070"));
        assertEquals("peer \"[fd00::5:7070\" is not host:port: no ']' closes the IPv6 address", error("[fd00::5:7070"));
        assertEquals("peer \"[fd00::5]\" is not host:port: no :port after the IPv6 address", error("[fd00::5]"));
        assertEquals("peer \"[node-a]:7070\" is not host:port: \"node-a\" is not an IPv6 address",
                error("[node-a]:7070"));
    }

    @Test
    void everyErrorIsOneLine() {
        for (String bad : List.of("", "x", "x:", "x:y", ":1", "[::1", "[::1]", "a b:1", "1:2:3", "x:99999")) {
            assertFalse(error(bad).contains("\n"), bad);
        }
    }

    @Test
    void aLiteralBecomesASocketAddressWithoutALookup() {
        InetSocketAddress socket = PeerAddress.parse("127.0.0.1:7070").toSocketAddress();

        assertFalse(socket.isUnresolved());
        assertEquals(InetAddress.getLoopbackAddress(), socket.getAddress());
        assertEquals(7070, socket.getPort());
    }

    @Test
    void knowsAWildcardFromASpecificAddress() {
        assertTrue(PeerAddress.parse("0.0.0.0:7070").isWildcard());
        assertTrue(PeerAddress.parse("[::]:7070").isWildcard());
        assertFalse(PeerAddress.parse("127.0.0.1:7070").isWildcard());
        assertFalse(PeerAddress.parse("node-a:7070").isWildcard());
    }

    @Test
    void sortsByHostThenPort() {
        List<PeerAddress> peers = new ArrayList<>(List.of(
                PeerAddress.parse("b:1"), PeerAddress.parse("a:9"), PeerAddress.parse("a:10")));
        Collections.sort(peers);

        assertEquals(List.of(PeerAddress.parse("a:9"), PeerAddress.parse("a:10"), PeerAddress.parse("b:1")), peers);
    }
}
