package io.cachefs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MountSettingsTest {

    private static MountSettings.Builder valid() {
        return MountSettings.builder()
                .source(Path.of("/data-oss"))
                .mountPoint(Path.of("/data"))
                .capacityBytes(20L << 30);
    }

    private static String refusal(MountSettings.Builder builder) {
        return assertThrows(IllegalArgumentException.class, builder::build).getMessage();
    }

    @Test
    void builderStartsFromTheDefaults() {
        MountSettings settings = valid().build();

        assertEquals(4L << 20, settings.blockSize());
        assertEquals(8, settings.readaheadBlocks());
        assertEquals(MountSettings.DEFAULT_WHOLE_FILE_FROM, settings.wholeFileFromBytes());
        assertEquals(MountSettings.DEFAULT_SOURCE_TIMEOUT, settings.sourceTimeout());
        assertEquals(KernelCache.OFF, settings.kernelCache());
        assertTrue(settings.passthrough());
        assertNull(settings.storeDir());
        assertEquals(0, settings.sourceThrottleBytesPerSec());
        assertNull(settings.adminAddress());
        assertNull(settings.listen());
        assertEquals(List.of(), settings.peers());
    }

    @Test
    void pathsAreMadeAbsoluteAndNormal() {
        MountSettings settings = valid().source(Path.of("a/../src")).mountPoint(Path.of("/mnt/./cache")).build();

        assertEquals(new SourceLocation.Directory(Path.of("src")), settings.source());
        assertEquals(Path.of("/mnt/cache"), settings.mountPoint());
    }

    @Test
    void peersAreCopiedSoTheCallerCannotChangeThemLater() {
        List<String> peers = new ArrayList<>(List.of("10.0.0.2:7070"));
        MountSettings settings = valid().listen(":7070").peerTokenFile(Path.of("/etc/cachefs/token")).peers(peers).build();
        peers.add("10.0.0.3:7070");

        assertEquals(List.of("10.0.0.2:7070"), settings.peers());
    }

    @Test
    void copyOfABuilderIsIndependent() {
        MountSettings.Builder defaults = valid().readaheadBlocks(4);
        MountSettings.Builder copy = defaults.copy().readaheadBlocks(16);

        assertEquals(4, defaults.build().readaheadBlocks());
        assertEquals(16, copy.build().readaheadBlocks());
    }

    @Test
    void missingSourceOrMountPointIsRefused() {
        assertEquals("no source directory given: name the directory to mirror", refusal(valid().source(null)));
        assertEquals("no mount point given: name the directory to mount the cache on",
                refusal(valid().mountPoint(null)));
    }

    @Test
    void mountPointMustBeApartFromTheSource() {
        assertTrue(refusal(valid().mountPoint(Path.of("/data-oss"))).contains("is the source directory itself"));
        assertTrue(refusal(valid().mountPoint(Path.of("/data-oss/cache"))).contains("inside the source directory"));
        assertTrue(refusal(valid().mountPoint(Path.of("/"))).contains("the mount would hide it"));
    }

    @Test
    void capacityMustBePositive() {
        assertEquals("capacity must be greater than zero, got 0 bytes: give the memory to use, like 20G",
                refusal(valid().capacityBytes(0)));
    }

    @Test
    void capacityMustHoldAtLeastOneBlock() {
        assertEquals("capacity 1 MiB is smaller than one block (4 MiB): raise the capacity or lower the block size",
                refusal(valid().capacityBytes(1L << 20)));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, 32 << 10, 3 << 20, 128 << 20, (4 << 20) + 1})
    void blockSizeMustBeAPowerOfTwoBetween64KAnd64M(long blockSize) {
        assertTrue(refusal(valid().blockSize(blockSize))
                .endsWith("is not a power of two between 64K and 64M: use 1M, 4M (the default) or 16M"));
    }

    @ParameterizedTest
    @ValueSource(longs = {64 << 10, 1 << 20, 64 << 20})
    void blockSizesAtAndBetweenTheLimitsAreAccepted(long blockSize) {
        assertEquals(blockSize, valid().blockSize(blockSize).build().blockSize());
    }

    @Test
    void readaheadMustBeBetweenZeroAnd256() {
        assertEquals(0, valid().readaheadBlocks(0).build().readaheadBlocks());
        assertEquals(256, valid().readaheadBlocks(256).build().readaheadBlocks());
        assertEquals("readahead of 257 blocks is out of range: use 0 (off) to 256",
                refusal(valid().readaheadBlocks(257)));
        assertTrue(refusal(valid().readaheadBlocks(-1)).contains("out of range"));
    }

    @Test
    void negativeThrottleIsRefused() {
        assertTrue(refusal(valid().sourceThrottleBytesPerSec(-1)).contains("use 0 for no limit"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:9100", ":9100", "[::1]:9100", "localhost:1", "admin.local:65535"})
    void hostPortAddressesAreAccepted(String address) {
        assertEquals(address, valid().adminAddress(address).build().adminAddress().toString());
        assertEquals(address, valid().listen(address).peerTokenFile(Path.of("/t")).build().listen().toString());
    }

    @Test
    void peersNeedAListenAddressAndListeningNeedsAToken() {
        IllegalArgumentException noListen = assertThrows(IllegalArgumentException.class,
                () -> valid().peers(List.of("10.0.0.2:7070")).build());
        assertTrue(noListen.getMessage().startsWith("--peers needs --listen"), noListen.getMessage());
        IllegalArgumentException noToken = assertThrows(IllegalArgumentException.class,
                () -> valid().listen(":7070").build());
        assertTrue(noToken.getMessage().startsWith("--listen needs --peer-token-file"), noToken.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "9100", "localhost:", "localhost:65536", "host:http", "[::1:9100"})
    void addressesThatAreNotHostPortAreRefused(String address) {
        String admin = refusal(valid().adminAddress(address));
        String listen = refusal(valid().listen(address).peerTokenFile(Path.of("/t")));

        assertTrue(admin.startsWith("admin address \"" + address + "\" is not host:port: "), admin);
        assertTrue(listen.startsWith("peer listen address \"" + address + "\" is not host:port: "), listen);
    }

    @Test
    void blankPeerIsRefused() {
        assertTrue(refusal(valid().peers(List.of("a:1", " "))).contains("peer address is blank"));
    }

    @Test
    void peerTlsNeedsAPeerGroup() {
        PeerTlsFiles tls = new PeerTlsFiles(Path.of("/tls/group.pem"), Path.of("/tls/group.key"), null);
        assertTrue(refusal(valid().peerTls(tls)).startsWith("--peer-tls-cert needs --listen"));
        assertEquals(tls, valid().listen(":7070").peerTokenFile(Path.of("/t")).peerTls(tls).build().peerTls());
    }

    @Test
    void peerTlsCertificateAndKeyGoTogether() {
        assertEquals(java.util.Optional.empty(), PeerTlsFiles.of(null, null, null));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerTlsFiles.of(Path.of("/c"), null, null))
                .getMessage().startsWith("--peer-tls-cert needs --peer-tls-key FILE"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerTlsFiles.of(null, Path.of("/k"), null))
                .getMessage().startsWith("--peer-tls-key needs --peer-tls-cert FILE"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerTlsFiles.of(null, null, Path.of("/t")))
                .getMessage().startsWith("--peer-tls-trust needs"));
        assertEquals(Path.of("/c"), PeerTlsFiles.of(Path.of("/c"), Path.of("/k"), null).orElseThrow().trust(),
                "the certificate trusts itself: one group certificate");
    }
}
