package io.cachefs.fuse;

import java.lang.foreign.MemorySegment;

/**
 * The reply to one READ request, gathered from the filesystem's own memory: the segments are
 * handed to the kernel in one {@code writev} once {@code read} returns, so the bytes are copied
 * once, by the kernel, and no buffer is allocated per request.
 *
 * <p>Segments must be native (off-heap or mapped) and stay valid until the reply is written: a
 * filesystem whose memory may go once it lets go of it (an unpinned cache block) adds the
 * segment with its pin, which the layer closes after the write (or when the read fails). Fewer
 * bytes than requested means end of file.
 */
public interface ReadReply {
    /** Appends the bytes of {@code segment} to the reply. */
    void add(MemorySegment segment);

    /** Appends {@code length} bytes of {@code segment} from {@code offset}, without making a slice. */
    void add(MemorySegment segment, long offset, long length);

    /**
     * Like {@link #add(MemorySegment, long, long)}, and closes {@code pin} once the kernel has
     * copied the bytes (or the read failed).
     */
    void add(MemorySegment segment, long offset, long length, AutoCloseable pin);
}
