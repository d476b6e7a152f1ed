package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cachefs.config.HostPort;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerSpecTest {

    private static String error(String flag) {
        return assertThrows(IllegalArgumentException.class, () -> PeerSpec.parse(flag)).getMessage();
    }

    @Test
    void parsesEachKindOfItem() {
        PeerSpec spec = PeerSpec.parse("node-a:7070,[fd00::5]:7070,dns:cachefs.models.svc:7070,file:/etc/cachefs/peers");

        assertEquals(List.of(
                new PeerSpec.Static(new PeerAddress("node-a", 7070)),
                new PeerSpec.Static(new PeerAddress("fd00::5", 7070)),
                new PeerSpec.Dns(new HostPort("cachefs.models.svc", 7070)),
                new PeerSpec.File(Path.of("/etc/cachefs/peers"))), spec.items());
    }

    @Test
    void ignoresBlanksAroundItems() {
        assertEquals(PeerSpec.parse("a:1,dns:b:2"), PeerSpec.parse("  a:1 , dns:b:2  "));
    }

    @Test
    void noPeersIsAGroupOfOne() {
        assertEquals(List.of(), PeerSpec.parse("").items());
        assertEquals(List.of(), PeerSpec.parse(null).items());
        assertEquals(List.of(), PeerSpec.of(List.of()).items());
    }

    @Test
    void acceptsTheServiceFilesListOfItems() {
        assertEquals(PeerSpec.parse("a:1,dns:b:2,file:peers.txt"), PeerSpec.of(List.of("a:1", " dns:b:2", "file:peers.txt")));
    }

    @Test
    void writesBackWhatItParsed() {
        String flag = "node-a:7070,[fd00::5]:7070,dns:peers.svc:7070,file:/etc/peers";

        assertEquals(flag, PeerSpec.parse(flag).toString());
    }

    @Test
    void aDnsItemWithoutAPortSaysHowToWriteOne() {
        assertEquals("--peers item \"dns:foo\" is not dns:NAME:PORT: no :port", error("dns:foo"));
        assertEquals("--peers item \"dns:foo:\" is not dns:NAME:PORT: the port is empty", error("dns:foo:"));
    }

    @Test
    void aDnsItemWithoutANameSaysHowToWriteOne() {
        assertEquals("--peers item \"dns::7070\" is not dns:NAME:PORT: host is empty", error("dns::7070"));
    }

    @Test
    void aDnsItemWithABadPortOrNameIsNamed() {
        assertEquals("--peers item \"dns:foo:http\" is not dns:NAME:PORT: port \"http\" is not a number",
                error("dns:foo:http"));
        assertEquals("--peers item \"dns:foo:0\" is not dns:NAME:PORT: port 0 is not in 1..65535", error("dns:foo:0"));
        assertEquals("--peers item \"dns:a:b:7070\" is not dns:NAME:PORT: more than one ':'", error("dns:a:b:7070"));
        assertEquals("--peers item \"dns:a b:7070\" is not dns:NAME:PORT: host has ' ', which a host name cannot have",
                error("dns:a b:7070"));
        assertEquals("--peers item \"dns:[::1]:7070\" is not dns:NAME:PORT: NAME is an IPv6 address, not a DNS name",
                error("dns:[::1]:7070"));
    }

    @Test
    void aDnsItemIsParsedByTheOneHostPortParser() {
        assertEquals(new PeerSpec.Dns(HostPort.parse("test", "peers.svc:7070")),
                PeerSpec.parse("dns:Peers.SVC:7070").items().getFirst(), "the name kept in lower case, as HostPort keeps it");
    }

    @Test
    void aFileItemWithoutAPathSaysHowToWriteOne() {
        assertEquals("--peers item \"file:\" needs a path: file:PATH", error("file:"));
    }

    @Test
    void aHostPortItemWithoutAPortIsNamed() {
        assertEquals("--peers item \"node-b\" is not host:port: no :port", error("node-a:7070,node-b"));
    }

    @Test
    void anEmptyItemIsAnErrorNotSilentlySkipped() {
        assertEquals("--peers item \"\" is empty: write host:port, dns:NAME:PORT or file:PATH", error("a:1,,b:2"));
    }

    @Test
    void errorsInTheServiceFileNameItsField() {
        String message = assertThrows(IllegalArgumentException.class, () -> PeerSpec.of(List.of("dns:foo"))).getMessage();

        assertEquals("cache.peers item \"dns:foo\" is not dns:NAME:PORT: no :port", message);
    }
}
