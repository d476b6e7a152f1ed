package io.cachefs.fs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Open file handles by number. Every READ looks its handle up, so the lookup is an array load:
 * no boxing, no hashing, no lock. Numbers are recycled through a free list.
 */
final class OpenHandles<T> {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    private volatile Object[] slots = new Object[256];
    private int[] free = new int[256];
    private int freeCount;
    private int next;

    synchronized long add(T value) {
        int slot = freeCount > 0 ? free[--freeCount] : next++;
        if (slot >= slots.length) {
            slots = Arrays.copyOf(slots, slots.length * 2);
        }
        SLOT.setRelease(slots, slot, value);
        return slot;
    }

    @SuppressWarnings("unchecked")
    T get(long handle) {
        Object[] current = slots;
        return handle >= 0 && handle < current.length ? (T) SLOT.getAcquire(current, (int) handle) : null;
    }

    /** Calls {@code action} with every handle open now; handles opened or closed meanwhile may be missed. */
    @SuppressWarnings("unchecked")
    void forEach(java.util.function.Consumer<T> action) {
        Object[] current = slots;
        for (int i = 0; i < current.length; i++) {
            Object value = SLOT.getAcquire(current, i);
            if (value != null) {
                action.accept((T) value);
            }
        }
    }

    @SuppressWarnings("unchecked")
    synchronized T remove(long handle) {
        T value = get(handle);
        if (value != null) {
            SLOT.setRelease(slots, (int) handle, null);
            if (freeCount == free.length) {
                free = Arrays.copyOf(free, freeCount * 2);
            }
            free[freeCount++] = (int) handle;
        }
        return value;
    }
}
