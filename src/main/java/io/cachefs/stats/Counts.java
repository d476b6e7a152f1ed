package io.cachefs.stats;

import java.util.Arrays;

/**
 * A snapshot of {@link Counters}: one total per constant of {@code E}, immutable.
 *
 * @param type the enum naming the counters
 * @param values the totals, by ordinal (copied in and never handed out)
 * @param <E> the enum naming the counters
 */
public record Counts<E extends Enum<E>>(Class<E> type, long[] values) {

    public Counts {
        if (values.length != type.getEnumConstants().length) {
            throw new IllegalArgumentException(values.length + " totals for the " + type.getEnumConstants().length
                    + " counters of " + type.getSimpleName());
        }
        values = values.clone();
    }

    /** Every counter at zero: a snapshot of something that has not started. */
    public static <E extends Enum<E>> Counts<E> zero(Class<E> type) {
        return new Counts<>(type, new long[type.getEnumConstants().length]);
    }

    public long get(E counter) {
        return values[counter.ordinal()];
    }

    @Override
    public long[] values() {
        return values.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Counts<?> that && type == that.type && Arrays.equals(values, that.values);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(type.getSimpleName()).append('{');
        E[] names = type.getEnumConstants();
        for (int i = 0; i < names.length; i++) {
            text.append(i == 0 ? "" : ", ").append(names[i]).append('=').append(values[i]);
        }
        return text.append('}').toString();
    }
}
