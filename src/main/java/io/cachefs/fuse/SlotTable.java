package io.cachefs.fuse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.Objects;

/**
 * Values by small number, for what every request looks up (the kernel's node ids, open file
 * handles): a lookup is one array load, with no boxing, hashing or lock. Numbers are recycled
 * through a free list, and each reuse of a number counts a new generation, so a number the kernel
 * still holds from before is never mistaken for the new value. Adding and removing take this
 * table's lock; a value is published with release semantics before its number is handed out.
 */
public final class SlotTable<T> {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    private volatile Object[] slots;
    private long[] generations;
    private int[] free = new int[64];
    private int freeCount;
    private int next;

    /** @param first the lowest number handed out (FUSE reserves node id 1 for the root) */
    public SlotTable(int first) {
        this.slots = new Object[Math.max(256, first + 1)];
        this.generations = new long[slots.length];
        this.next = first;
    }

    /** Makes the value for a number: values that carry their own number and generation. */
    @FunctionalInterface
    public interface Maker<T> {
        T make(int slot, long generation);
    }

    /** Stores {@code value} under a free number and returns it. */
    public int add(T value) {
        return add((slot, generation) -> value);
    }

    /** Stores what {@code maker} makes for a free number and returns the number. */
    public synchronized int add(Maker<T> maker) {
        int slot = freeCount > 0 ? free[--freeCount] : next++;
        if (slot >= slots.length) {
            int length = Math.max(slots.length * 2, slot + 1);
            slots = Arrays.copyOf(slots, length);
            generations = Arrays.copyOf(generations, length);
        }
        T value = Objects.requireNonNull(maker.make(slot, ++generations[slot]));
        SLOT.setRelease(slots, slot, value);
        return slot;
    }

    /** Stores {@code value} under {@code slot}, which must be below the first number handed out. */
    public synchronized void put(int slot, T value) {
        if (slot >= next) {
            throw new IllegalArgumentException("slot " + slot + " is handed out by add()");
        }
        SLOT.setRelease(slots, slot, value);
    }

    /** The value under {@code slot}, or null. */
    @SuppressWarnings("unchecked")
    public T get(long slot) {
        Object[] current = slots;
        return slot >= 0 && slot < current.length ? (T) SLOT.getAcquire(current, (int) slot) : null;
    }

    /** How many times {@code slot} was handed out (0: never). */
    public synchronized long generation(int slot) {
        return slot < generations.length ? generations[slot] : 0;
    }

    /** Removes and returns the value under {@code slot} (null if none); the number is free again. */
    public synchronized T remove(long slot) {
        T value = get(slot);
        if (value != null) {
            SLOT.setRelease(slots, (int) slot, null);
            if (freeCount == free.length) {
                free = Arrays.copyOf(free, freeCount * 2);
            }
            free[freeCount++] = (int) slot;
        }
        return value;
    }

    /** Calls {@code action} with every value now; values added or removed meanwhile may be missed. */
    @SuppressWarnings("unchecked")
    public void forEach(Consumer<T> action) {
        Object[] current = slots;
        for (Object value : current) {
            Object now = value;
            if (now != null) {
                action.accept((T) now);
            }
        }
    }
}
