package io.cachefs.warmup;

/** Bytes by where they came from. */
public record Tiers(long memory, long peer, long source) {
    public static final Tiers NONE = new Tiers(0, 0, 0);

    public Tiers plus(Tiers other) {
        return new Tiers(memory + other.memory, peer + other.peer, source + other.source);
    }

    public long total() {
        return memory + peer + source;
    }
}
