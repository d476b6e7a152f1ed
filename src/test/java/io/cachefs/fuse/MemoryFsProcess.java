package io.cachefs.fuse;

import java.nio.file.Path;

/**
 * A {@link MemoryFilesystem} mounted by a process of its own, for tests of what happens to a
 * mount when its daemon is signalled. Prints "mounted" once ready; runs until unmounted.
 */
public final class MemoryFsProcess {
    private MemoryFsProcess() {
    }

    public static void main(String[] args) throws Exception {
        MemoryFilesystem fs = new MemoryFilesystem();
        try (Memfd hello = Memfd.withPattern("hello", 4096, 1)) {
            fs.file("hello", hello, false, false);
            FuseMount<String> mount = FuseMount.mount(Path.of(args[0]), fs, MountOptions.defaults("memfs").withWorkers(2));
            System.out.println("mounted");
            System.out.flush();
            mount.awaitUnmount();
        }
    }
}
