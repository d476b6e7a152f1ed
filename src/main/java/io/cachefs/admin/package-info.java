/**
 * The admin endpoint: plain HTTP ({@code --admin HOST:PORT}; loopback when the host is left
 * out, {@code :9100}) that tells an operator and Prometheus how well each mount's cache and its
 * peer group are doing. It only reads
 * snapshots; it never changes the cache.
 *
 * <h2>API</h2>
 * <pre>{@code
 * List<MonitoredMount> mounts = ...;                 // the daemon adapts its cache and fs
 * try (AdminServer admin = AdminServer.start(new InetSocketAddress("127.0.0.1", 9100), mounts)) {
 *     log.info("admin on {}", admin.address());       // the actual port when 0 was asked for
 *     ...
 * }
 * }</pre>
 * <ul>
 *   <li>{@link io.cachefs.admin.AdminServer} — {@code start(InetSocketAddress, List)} (a taken
 *       port fails with {@code BindException: admin address 127.0.0.1:9100 is in use: choose
 *       another port}), {@code address()}, {@code close()}.
 *   <li>{@link io.cachefs.admin.MonitoredMount} — what the endpoint reports on: mount point,
 *       source, and {@code metrics()}, called once per mount per request.
 *   <li>{@link io.cachefs.admin.MountMetrics} — one snapshot of a mount: the cache's
 *       {@code CacheStats} and {@code LoadStats}, the filesystem's and the source's counts, the
 *       source's health and the FUSE workers, and {@link io.cachefs.admin.PeerMetrics}.
 * </ul>
 *
 * <h2>Endpoints</h2>
 * <ul>
 *   <li>{@code GET /metrics} — the Prometheus text format 0.0.4
 *       ({@code text/plain; version=0.0.4}), rendered by Micrometer's
 *       {@code PrometheusMeterRegistry}, with JVM and process meters besides the ones below.
 *   <li>{@code GET /status} — JSON: {@code process} ({@code pid}, {@code uptimeSeconds},
 *       {@code heapUsedBytes}, {@code heapMaxBytes}) and {@code mounts}, each with
 *       {@code mountPoint, source, capacityBytes, usedBytes, hitRatio, filesCached, blocks,
 *       readBytes {memory, peer, source}, sourceReadBytes, passthroughOpens, evictions,
 *       uncachedReadBytes, sourceLoading, peers (each member's address, self, live, failures,
 *       fetchedBytes, servedBytes, redirects; empty without a group), peerServedBytes,
 *       peerPortEvents (by event; empty without a group), faults
 *       (failedReads, offlineOpens, staleMetadataAnswers, unansweredSourceCalls, sourceReachable,
 *       workers, workersPeak, workersDied, failedLoads), wholeFiles, partFiles,
 *       biggestFiles [{path, sizeBytes, memoryBytes, share}]}; {@code cachefs status} prints it.
 *   <li>Any other path: 404; any method but GET: 405. A mount whose {@code metrics()} throws:
 *       500. Error bodies are one line of text; stack traces go to the log only.
 * </ul>
 *
 * <h2>Metrics</h2>
 * Every series carries {@code mount="<mount point>"}. The counters of {@code cache}, {@code fs},
 * {@code source} and {@code peer} are those packages' enums ({@code CacheCounter},
 * {@code ReadCounter}, {@code SourceCounter}; {@code PeerResults.Answer} and
 * {@code PeerFetch.Kind} for the peer results, {@code PortEvent} for the port's), each named
 * once in {@code ExportedCounters} and registered by iterating the enum; a peer result's or port
 * event's label is its constant's name in lower case, so a new {@code PeerFetch.Kind} is
 * exported as it is added.
 * <pre>
 * cachefs_read_bytes_total{tier="memory"|"peer"|"source"}  counter  bytes returned to readers
 * cachefs_passthrough_opens_total                          counter  opens served by passthrough
 * cachefs_offline_opens_total                              counter  opens while the source is down
 * cachefs_failed_reads_total                               counter  reads answered EIO
 * cachefs_cache_hits_total, cachefs_cache_misses_total     counter  block lookups
 * cachefs_evictions_total                                  counter  blocks evicted for room
 * cachefs_cache_loaded_bytes_total                         counter  bytes loaded into the cache
 * cachefs_uncached_read_bytes_total                        counter  bytes loaded over capacity
 * cachefs_cache_failed_loads_total                         counter  block loads that failed
 * cachefs_load_abandoned_total                             counter  loads past the source timeout
 * cachefs_source_read_bytes_total, cachefs_source_reads_total, cachefs_source_opens_total
 *                                                          counter  what reads cost the source
 * cachefs_cache_bytes, cachefs_cache_capacity_bytes        gauge    memory held, its bound
 * cachefs_blocks                                           gauge    blocks in memory
 * cachefs_files_cached                                     gauge    file versions with a block
 * cachefs_source_read_rate_bytes_per_second, cachefs_load_streams, cachefs_load_target_streams,
 * cachefs_load_in_flight_bytes                             gauge    how the source is read now
 * cachefs_stale_metadata_answers_total, cachefs_source_unanswered_total
 *                                                          counter  metadata while the source is down
 * cachefs_source_reachable                                 gauge    1 while the source answers
 * cachefs_fuse_workers                                     gauge    FUSE workers running
 * cachefs_fuse_workers_died_total                          counter  workers stopped by a bug
 * cachefs_peer_members{state="live"|"down"}                gauge    the peer group as seen here
 * cachefs_peer_requests_total{result=...}                  counter  block requests made to peers
 *     (fetched, not_there, redirected, or the failure: timeout, refused, bad_checksum, ...)
 * cachefs_peer_port_events_total{event=...}                counter  misuse the peer port turned away
 *     (connection_rejected, request_timeout, bad_signature, replay)
 * cachefs_peer_served_bytes_total                          counter  block bytes sent to peers
 * cachefs_peer_passed_on_bytes_total                       counter  of those, sent while still arriving
 * cachefs_peer_fetched_bytes_total{peer="host:port"}       counter  block bytes fetched from a peer
 * cachefs_peer_sent_bytes_total{peer="host:port"}          counter  block bytes sent to a peer
 * cachefs_peer_redirects_total{peer="host:port"}           counter  owner loads it answered "ask X"
 * </pre>
 * The {@code peer} series appear when a member is first seen.
 * A scrape reads each mount once ({@code MountMeters.refresh}), so all series of one scrape
 * come from one snapshot.
 *
 * <p>The rest is package-private: {@code AdminHandler} (routing and errors, one place),
 * {@code Endpoint} with {@code MetricsEndpoint} and {@code StatusEndpoint}, {@code MountMeters}
 * (one mount's Micrometer meters), {@code ExportedCounters} (every counter's exported name) and
 * {@code Status} (the JSON document).
 */
package io.cachefs.admin;
