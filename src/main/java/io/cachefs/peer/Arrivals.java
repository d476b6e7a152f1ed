package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The blocks this member is receiving from peers now ({@link Arrival}): the loader registers
 * each fetch, the server passes them on, and the announcements count those whose head is in as
 * held, so that the other members ask for them while they arrive. A handful at a time (one per
 * load stream), so the lookups by version simply scan.
 */
final class Arrivals {

    private record Key(FileVersion file, long index) {}

    private final Map<Key, Arrival> arriving = new ConcurrentHashMap<>();

    /** A fetch of block {@code index} of {@code file} from {@code from} into {@code dst} begins. */
    Arrival begin(FileVersion file, long index, PeerAddress from, MemorySegment dst) {
        Arrival arrival = new Arrival(file, index, from, dst);
        Arrival before = arriving.put(new Key(file, index), arrival);
        if (before != null) {
            before.end(false); // not expected (one load per block at a time), but never left waiting on
        }
        return arrival;
    }

    /** The fetch is over: see {@link Arrival#end}. */
    void end(Arrival arrival, boolean whole) {
        arriving.remove(new Key(arrival.file, arrival.index), arrival);
        arrival.end(whole);
    }

    /** The block if it is arriving and its sender's answer is a block; else null. */
    Arrival headed(FileVersion file, long index) {
        Arrival arrival = arriving.get(new Key(file, index));
        return arrival != null && arrival.headed() ? arrival : null;
    }

    /** The blocks of {@code file} arriving with their heads in. */
    BitSet headed(FileVersion file) {
        BitSet blocks = new BitSet();
        arriving.values().forEach(arrival -> {
            if (arrival.file.equals(file) && arrival.headed()) {
                blocks.set((int) arrival.index);
            }
        });
        return blocks;
    }

    /** The versions some block of which is arriving. */
    Set<FileVersion> versions() {
        Set<FileVersion> versions = new LinkedHashSet<>();
        arriving.values().forEach(arrival -> versions.add(arrival.file));
        return versions;
    }
}
