package io.cachefs.fuse;

import java.lang.foreign.MemorySegment;

/**
 * The reply to one READ request, gathered from the filesystem's own memory: the segments are
 * handed to the kernel in one {@code writev}, so the bytes are copied once, by the kernel, and no
 * buffer is allocated per request.
 *
 * <p>Segments must be native (off-heap or mapped) and stay valid until {@link #send()} returns;
 * a filesystem that must release memory after the reply (an unpinned cache block) calls
 * {@code send()} itself, otherwise the layer sends when {@code read} returns. Fewer bytes than
 * requested means end of file.
 */
public interface ReadReply {
    /** Appends the bytes of {@code segment} to the reply. */
    void add(MemorySegment segment);

    /** Appends {@code length} bytes of {@code segment} from {@code offset}, without making a slice. */
    void add(MemorySegment segment, long offset, long length);

    /** Writes the reply now. Later calls and adds are ignored/rejected. */
    void send();
}
