/**
 * The slow side: {@link io.cachefs.source.Source} lists, stats and reads ranges of the source
 * directory, never writes to it, never leaves it (no path escapes), and never returns bytes of
 * another version than the one asked for ({@link io.cachefs.source.StaleVersionException}).
 * Decorators add a bandwidth limit ({@link io.cachefs.source.ThrottledSource}) and a count of
 * bytes read ({@link io.cachefs.source.CountingSource}).
 */
package io.cachefs.source;
