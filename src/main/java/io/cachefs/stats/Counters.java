package io.cachefs.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The running totals of one enum of counters, one {@link LongAdder} a constant: cheap to add to
 * from many threads at once, read only when a snapshot is taken. Totals never go down.
 *
 * @param <E> the enum naming the counters
 */
public final class Counters<E extends Enum<E>> {
    private final Class<E> type;
    private final LongAdder[] totals;

    public Counters(Class<E> type) {
        this.type = type;
        this.totals = new LongAdder[type.getEnumConstants().length];
        for (int i = 0; i < totals.length; i++) {
            totals[i] = new LongAdder();
        }
    }

    public void increment(E counter) {
        totals[counter.ordinal()].increment();
    }

    public void add(E counter, long amount) {
        totals[counter.ordinal()].add(amount);
    }

    /** One counter's total now. */
    public long get(E counter) {
        return totals[counter.ordinal()].sum();
    }

    /** Every total now; counters added to while it is taken may be seen before or after the addition. */
    public Counts<E> snapshot() {
        long[] values = new long[totals.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = totals[i].sum();
        }
        return new Counts<>(type, values);
    }
}
