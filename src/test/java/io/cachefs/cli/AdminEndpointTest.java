package io.cachefs.cli;

import io.cachefs.LoopbackPort;
import io.cachefs.admin.AdminServer;
import io.cachefs.config.MountSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the admin endpoint listens: what an empty host means, on a real socket. */
class AdminEndpointTest {

    @Test
    void anAdminAddressWithoutAHostListensOnLoopbackOnly(@TempDir Path dir) throws Exception {
        int port = LoopbackPort.free();
        MountSettings settings = MountSettings.builder().source(dir.resolve("source")).mountPoint(dir.resolve("mount"))
                .capacityBytes(1L << 30).adminAddress(":" + port).build();

        AdminServer server = AdminEndpoint.start(List.of(settings), List.of());
        try {
            InetSocketAddress bound = server.address();
            assertTrue(bound.getAddress().isLoopbackAddress(), bound.toString());
            assertEquals(port, bound.getPort());
        } finally {
            server.close();
        }
    }

}
