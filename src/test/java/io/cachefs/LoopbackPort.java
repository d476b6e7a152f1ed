package io.cachefs;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** A TCP port on loopback that nothing listens on right now, for a daemon or server a test starts. */
public final class LoopbackPort {

    private LoopbackPort() {
    }

    /** A port the kernel just handed out and took back: free until someone else binds it. */
    public static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
