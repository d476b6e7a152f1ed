package io.cachefs.peer;

import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link BlockServerStats}; bumped from event loops and lookups. */
final class ServedCounters {

    final LongAdder connections = new LongAdder();
    final LongAdder served = new LongAdder();
    final LongAdder servedBytes = new LongAdder();
    final LongAdder notFound = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder failed = new LongAdder();

    void countError(int status) {
        if (status == 404) {
            notFound.increment();
        } else if (status < 500) {
            rejected.increment();
        } else {
            failed.increment();
        }
    }

    BlockServerStats snapshot() {
        return new BlockServerStats(connections.sum(), served.sum(), servedBytes.sum(),
                notFound.sum(), rejected.sum(), failed.sum());
    }
}
