package io.cachefs.cache;

/**
 * How a loader says, from inside a long load, that bytes are still arriving: a block a peer
 * sends slowly (its uplink shared with many new members) or that comes after a few holders and
 * an owner were tried may take longer than the source timeout, and is not a hang. The watchdog
 * and waiting readers judge a load by its silence, so each sign of life moves their deadline on.
 *
 * <p>A stream binds itself here for its thread's whole life ({@link LoadStreams}); a loader calls
 * {@link #made} on that thread, so nothing is passed through the loader's interface. Outside a
 * stream (an owner load a peer asked for, a test) it does nothing.
 */
public final class LoadProgress {

    static final ScopedValue<FileLoad.LoadStream> STREAM = ScopedValue.newInstance();

    private LoadProgress() {
    }

    /** Bytes (or a peer's "still working") arrived for the load this thread runs. */
    public static void made() {
        if (STREAM.isBound()) {
            STREAM.get().progressed();
        }
    }
}
