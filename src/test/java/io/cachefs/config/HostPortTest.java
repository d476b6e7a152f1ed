package io.cachefs.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HostPortTest {

    private static String error(String text) {
        return assertThrows(IllegalArgumentException.class, () -> HostPort.parse("--admin", text)).getMessage();
    }

    @Test
    void parsesANameAnIpv4LiteralAndAnIpv6LiteralInBrackets() {
        assertEquals(new HostPort("node-a.cachefs.svc", 9100), HostPort.parse("x", "node-a.cachefs.svc:9100"));
        assertEquals(new HostPort("10.0.0.5", 1), HostPort.parse("x", "10.0.0.5:1"));
        assertEquals(new HostPort("fd00::5", 65535), HostPort.parse("x", "[fd00::5]:65535"));
    }

    @Test
    void writesBackWhatParsesToTheSameValue() {
        for (String text : new String[] {"node-a:7070", "[fd00::5]:7070", ":9100", "[::]:9100"}) {
            assertEquals(text, HostPort.parse("x", text).toString());
            assertEquals(HostPort.parse("x", text), HostPort.parse("x", HostPort.parse("x", text).toString()));
        }
        assertEquals("[fd00::a]:7070", HostPort.parse("x", "[FD00::A]:7070").toString());
    }

    @Test
    void anEmptyHostStaysEmptyUntilTheListenerSaysWhatItMeans() {
        HostPort any = HostPort.parse("x", ":9100");

        assertEquals("", any.host());
        assertEquals(new HostPort("127.0.0.1", 9100), any.orHost(HostPort.LOOPBACK));
        assertEquals(new HostPort("0.0.0.0", 9100), any.orHost(HostPort.ALL_INTERFACES));
        assertEquals(new HostPort("10.0.0.5", 9100), HostPort.parse("x", "10.0.0.5:9100").orHost(HostPort.LOOPBACK));
        assertEquals("http://127.0.0.1:9100", any.httpBase());
        assertEquals("http://[::1]:9100", HostPort.parse("x", "[::1]:9100").httpBase());
    }

    @Test
    void anAddressOthersConnectToNeedsAHost() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> HostPort.parseWithHost("peer", ":7070"));
        assertEquals("peer \":7070\" is not host:port: host is empty", empty.getMessage());
    }

    @Test
    void rejectsAMissingPort() {
        assertEquals("--admin \"localhost\" is not host:port: no :port", error("localhost"));
        assertEquals("--admin \"localhost:\" is not host:port: the port is empty", error("localhost:"));
        assertEquals("--admin \"[::1]\" is not host:port: no :port after the IPv6 address", error("[::1]"));
        assertEquals("--admin is missing: write host:port",
                assertThrows(IllegalArgumentException.class, () -> HostPort.parse("--admin", null)).getMessage());
    }

    @Test
    void rejectsAPortThatIsNotANumberOrOutOfRange() {
        assertEquals("--admin \"localhost:http\" is not host:port: port \"http\" is not a number", error("localhost:http"));
        assertEquals("--admin \"localhost:-1\" is not host:port: port \"-1\" is not a number", error("localhost:-1"));
        assertEquals("--admin \"localhost:0\" is not host:port: port 0 is not in 1..65535", error("localhost:0"));
        assertEquals("--admin \"localhost:65536\" is not host:port: port 65536 is not in 1..65535",
                error("localhost:65536"));
        assertEquals("--admin \"localhost:99999999999\" is not host:port: port \"99999999999\" is not a number",
                error("localhost:99999999999"));
    }

    @Test
    void rejectsABadHost() {
        assertEquals("--admin \"node a:9100\" is not host:port: host has ' ', which a host name cannot have",
                error("node a:9100"));
        assertEquals("--admin \"http://node-a:9100\" is not host:port: more than one ':'"
                + " (write an IPv6 address as [v6]:port)", error("http://node-a:9100"));
        assertEquals("--admin \"[node-a]:9100\" is not host:port: \"node-a\" is not an IPv6 address",
                error("[node-a]:9100"));
    }

    @Test
    void rejectsIpv6WithoutBracketsOrWithBrokenBrackets() {
        assertEquals("--admin \"::1:9100\" is not host:port: more than one ':' (write an IPv6 address as [v6]:port)",
                error("::1:9100"));
        assertEquals("--admin \"[::1:9100\" is not host:port: no ']' closes the IPv6 address", error("[::1:9100"));
        assertEquals("--admin \"[::1]9100\" is not host:port: no :port after the IPv6 address", error("[::1]9100"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x", "x:", "x:y", ":0", "[::1", "[::1]", "a b:1", "1:2:3", "x:99999", "[]:1"})
    void everyErrorIsOneLine(String bad) {
        assertFalse(error(bad).contains("\n"), bad);
    }

    @Test
    void aLiteralBecomesASocketAddressWithoutALookup() {
        InetSocketAddress socket = HostPort.parse("x", "127.0.0.1:9100").socketAddress();

        assertFalse(socket.isUnresolved());
        assertEquals(InetAddress.getLoopbackAddress(), socket.getAddress());
        assertNull(HostPort.parse("x", "node-a:1").literal());
        assertNull(HostPort.parse("x", ":1").literal());
    }
}
