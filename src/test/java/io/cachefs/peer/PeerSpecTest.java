package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
                new PeerSpec.Dns("cachefs.models.svc", 7070),
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
        assertEquals("--peers item \"dns:foo\" needs a port: dns:NAME:PORT", error("dns:foo"));
        assertEquals("--peers item \"dns:foo:\" needs a port: dns:NAME:PORT", error("dns:foo:"));
    }

    @Test
    void aDnsItemWithoutANameSaysHowToWriteOne() {
        assertEquals("--peers item \"dns::7070\" needs a name: dns:NAME:PORT", error("dns::7070"));
    }

    @Test
    void aDnsItemWithABadPortOrNameIsNamed() {
        assertEquals("--peers item \"dns:foo:http\" has a port that is not a number: dns:NAME:PORT",
                error("dns:foo:http"));
        assertEquals("--peers item \"dns:foo:0\" has port 0, not in 1..65535", error("dns:foo:0"));
        assertEquals("--peers item \"dns:a:b:7070\" has more than one ':' in its name: dns:NAME:PORT takes a DNS name",
                error("dns:a:b:7070"));
        assertEquals("--peers item \"dns:a b:7070\" has a name that is not a DNS name", error("dns:a b:7070"));
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

        assertEquals("cache.peers item \"dns:foo\" needs a port: dns:NAME:PORT", message);
    }
}
