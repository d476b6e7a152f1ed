/**
 * The block cache: fixed-size blocks of source files held in memory, off the Java heap.
 *
 * <h2>API</h2>
 * <pre>{@code
 * var cache = new BlockCache(CacheSettings.withCapacity(20L << 30), new SourceLoader(source));
 * cache.adopt(path -> currentVersionIn(source, path));      // a store directory's blocks, after a restart
 * cache.loadWhole(version);                                  // the file was opened: all of it, in streams
 * try (BlockLease lease = cache.acquire(version, index)) {     // pinned while open
 *     MemorySegment.copy(lease.bytes(), 0, dst, 0, lease.bytes().byteSize());
 * }
 * cache.prefetch(version, index + 1, 4);                     // readahead, returns at once
 * Optional<PinnedFile> whole = cache.pinWhole(version);      // fd for FUSE passthrough
 * cache.dropPath(version.path(), newerVersion);              // source file changed
 * }</pre>
 * <ul>
 *   <li>{@link io.cachefs.cache.BlockCache} — {@code acquire(FileVersion, long) -> BlockLease}
 *       (singleflight load on a miss, waiting at most the source timeout without progress),
 *       {@code acquireAsOwner} (a peer's owner load: never forwarded), {@code loadWhole(FileVersion)},
 *       {@code prefetch(FileVersion, long first, int count)},
 *       {@code pinWhole(FileVersion) -> Optional<PinnedFile>}, {@code dropPath(String,
 *       FileVersion keep)}, {@code isFullyCached(FileVersion)}, {@code stats() -> CacheStats},
 *       {@code layout() -> BlockLayout}, {@code adopt(CurrentVersions) -> AdoptionReport} (once,
 *       first: the blocks a cache before it left in its store directory), {@code close()}.
 *   <li>{@link io.cachefs.cache.StoreDirectory} — a daemon's {@code --store-dir}: locked for one
 *       process ({@code flock}), one directory per mount inside.
 *   <li>{@link io.cachefs.cache.BlockLoader} — opens a {@link io.cachefs.cache.BlockReader} per
 *       load stream: how missing blocks are filled (source, peer); {@link io.cachefs.cache.SourceLoader}
 *       reads them through one source handle per stream. {@link io.cachefs.cache.BlockKey} names a block.
 *   <li>{@link io.cachefs.cache.BlockLease} — a pinned block's read-only bytes.
 *   <li>{@link io.cachefs.cache.PinnedFile} — a fully cached version's memory file descriptor.
 *   <li>{@link io.cachefs.cache.CacheSettings}, {@link io.cachefs.cache.BlockLayout}
 *       (which block holds which bytes), {@link io.cachefs.cache.CacheStats},
 *       {@link io.cachefs.cache.LoadStats} (streams, bytes in flight, what the tuner learned).
 * </ul>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Blocks are keyed by (file version, index): no read ever sees another version's bytes.
 *   <li>Memory held by cached blocks never exceeds the capacity; each block counts its whole
 *       pages. Reads that find the capacity pinned full are served from temporary buffers
 *       outside it ({@code CacheStats.uncachedBytes}).
 *   <li>A pinned block (lease or whole-file pin) is never evicted nor punched.
 *   <li>Concurrent misses of one block call the loader once; a failed load is not cached.
 *   <li>No reader thread ever calls the loader: loads run on the streams' own threads, in file
 *       order, and a load the source does not return within the timeout is abandoned.
 *   <li>The Java heap holds bookkeeping per block held, never per byte.
 *   <li>In a store directory, the index beside a block file claims a block only while its bytes
 *       are complete, and a cache started again serves an adopted block only if its bytes match
 *       the CRC32C recorded for it and its version is the source's (or the source did not answer,
 *       in which case every open checks it first); adopted blocks count against the capacity.
 * </ul>
 *
 * <p>The engine is package-private. {@code BlockCache} coordinates; each job is a class of its
 * own under the cache's one lock, as in Caffeine: {@code CachedVersions} (the live version of
 * each file version) with {@code CachedVersion}, {@code BlockTable}, {@code Block} and
 * {@code MemoryFile} (a version's blocks and memory-backed file); {@code CapacityLedger} with
 * {@code AccessOrderList} (used bytes, LRU order); {@code Pins} (what eviction may not touch);
 * {@code Reclaimer} with its {@code Reclamation} (memory given back outside the lock). The miss path
 * reads in three files: {@code LoadStreams} (threads, the loop claim -> read -> publish, the
 * watchdog), {@code FileLoad} (what one version wants, its streams, and which stream takes
 * what) and {@code BlockLoads} (claims, singleflight, publishing; {@code PagePopulator} readies the
 * memory of a run and of the runs claimed after it while the run is read), with {@code LoadWaiting} (a
 * reader's deadline of silence, which {@code LoadProgress} moves on while a loader still
 * receives) and {@code StreamTuner}. Restarts: {@code StoreFiles} (a store directory's names),
 * {@code StoreIndex} (the slots beside each block file) and {@code StoreAdoption} (what a cache
 * starting on a store keeps). {@code CacheInvariants} checks the books for tests.
 */
package io.cachefs.cache;
