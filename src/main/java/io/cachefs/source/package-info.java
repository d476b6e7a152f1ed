/**
 * The slow side: {@link io.cachefs.source.Source} lists and stats the source directory and opens
 * a version of a file as a {@link io.cachefs.source.SourceFile}, one handle for many ranged
 * reads; it never writes to the source, never leaves it (no path escapes), and never returns
 * bytes of another version than the one asked for ({@link io.cachefs.source.StaleVersionException}).
 * Decorators ({@link io.cachefs.source.ForwardingSource}) add a bandwidth limit
 * ({@link io.cachefs.source.ThrottledSource}) and counts of opens and bytes read
 * ({@link io.cachefs.source.CountingSource}).
 */
package io.cachefs.source;
