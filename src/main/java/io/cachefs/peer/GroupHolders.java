package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.util.List;

/**
 * What the {@link BlockServer} needs of the group besides this instance's blocks: holder lists,
 * to answer trackers' polls and askers, to take announcements, and to redirect an owner load to
 * a member that holds the block. Called on lookup threads, never on an event loop: may block.
 */
interface GroupHolders {

    /** This member's own blocks of {@code file}, under its name in the ring. */
    Holdings own(FileVersion file);

    /** What this member knows of {@code file}'s holders as a tracker (polling the group if it must). */
    Holdings tracked(FileVersion file, int blockSize);

    /** {@code member} announced what it holds of a version. */
    void announced(PeerAddress member, Announcement announcement);

    /** The block if this member is receiving it from a peer now and may pass it on ({@link Arrival}); else null. */
    default Arrival arriving(FileVersion file, long index) {
        return null;
    }

    /** Members known to hold block {@code index} of {@code file}, for a redirect; may be empty. */
    List<PeerAddress> holdersOf(FileVersion file, int blockSize, long index);

    /** A server alone: it knows only its own blocks and redirects nobody. */
    static GroupHolders alone(LocalBlocks blocks, PeerAddress self) {
        return new GroupHolders() {
            @Override
            public Holdings own(FileVersion file) {
                return Holdings.NONE.with(self, blocks.held(file));
            }

            @Override
            public Holdings tracked(FileVersion file, int blockSize) {
                return own(file);
            }

            @Override
            public void announced(PeerAddress member, Announcement announcement) {
            }

            @Override
            public List<PeerAddress> holdersOf(FileVersion file, int blockSize, long index) {
                return List.of();
            }
        };
    }
}
