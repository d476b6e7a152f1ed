/**
 * {@code cachefs warmup}: loads files into a running daemon's cache by reading them through its
 * mount, in parallel, and shows how it goes. It talks to the daemon only through the mount: a
 * read loads what it reads (and opening a large file loads all of it in the daemon's streams),
 * and the {@code user.cachefs} extended attribute of a file says whether every block of it is in
 * memory and which tiers served the open handles of it. So a warm-up needs no admin port, works
 * for any user who may read the files, and gives the daemon no new control surface.
 *
 * <p>{@code Targets} turns paths and globs into files inside cachefs mounts; {@code FileState}
 * reads the attribute; {@code Warmup} reads the files and tallies bytes by tier;
 * {@code TerminalProgress} and {@code LineProgress} show it, {@code WarmupReport} sums it up.
 */
package io.cachefs.warmup;
