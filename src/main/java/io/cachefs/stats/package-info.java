/**
 * Counters keyed by an enum, and their immutable snapshots: the one shape every package's stats
 * take (Caffeine's {@code StatsCounter} and {@code CacheStats} are the model).
 *
 * <p>A package that counts declares an {@code enum} of its counters and keeps one
 * {@link io.cachefs.stats.Counters} of it; it hands out {@link io.cachefs.stats.Counts} snapshots.
 * The admin endpoint exports a snapshot by iterating the enum, so a new counter is one enum
 * constant in its package and one line where admin names the metric. Imports nothing of CacheFS.
 */
package io.cachefs.stats;
