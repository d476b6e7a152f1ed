package io.cachefs.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CountersTest {
    enum Kind { ONE, TWO }

    @Test
    void aSnapshotHoldsEachCounterAndDoesNotMoveAfterwards() {
        Counters<Kind> counters = new Counters<>(Kind.class);
        counters.increment(Kind.ONE);
        counters.add(Kind.TWO, 40);
        counters.add(Kind.TWO, 2);

        Counts<Kind> taken = counters.snapshot();
        counters.increment(Kind.ONE);

        assertEquals(1, taken.get(Kind.ONE));
        assertEquals(42, taken.get(Kind.TWO));
        assertEquals(2, counters.get(Kind.ONE));
    }

    @Test
    void countsCannotBeChangedThroughTheirArray() {
        long[] values = {1, 2};
        Counts<Kind> counts = new Counts<>(Kind.class, values);
        values[0] = 9;
        counts.values()[1] = 9;

        assertEquals(new Counts<>(Kind.class, new long[] {1, 2}), counts);
        assertEquals("Kind{ONE=1, TWO=2}", counts.toString());
    }

    @Test
    void countsNeedOneTotalPerCounter() {
        assertThrows(IllegalArgumentException.class, () -> new Counts<>(Kind.class, new long[3]));
        assertEquals(0, Counts.zero(Kind.class).get(Kind.TWO));
    }
}
