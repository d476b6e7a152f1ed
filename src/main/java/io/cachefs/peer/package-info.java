/**
 * The peer group: instances of one service that fetch blocks from each other's memory, so that
 * each block is read from the slow source once for the whole group, and a new instance warms
 * from its neighbours instead of from the source.
 *
 * <h2>Read path on a local miss</h2>
 * <ol>
 *   <li>The block's owners are the live members ranked by rendezvous hashing of its key
 *       ({@link io.cachefs.peer.Rendezvous#rank}, {@link io.cachefs.peer.Rendezvous#blockKey}
 *       over {@link io.cachefs.peer.Membership#liveMembers}). Every instance computes the same
 *       ranking, with no coordination.
 *   <li>The first few ranks are asked for a memory-only copy: after the group grew, they owned
 *       the block before the newcomer took it over, so its bytes are probably still there.
 *   <li>Then the top-ranked owner is asked to load it: it reads the source once (singleflight)
 *       for the whole group and keeps it. If this instance is the top-ranked owner, it reads the
 *       source itself.
 *   <li>A dead or slow peer costs at most a short timeout, after which it is
 *       {@linkplain io.cachefs.peer.Membership#markFailed marked} and skipped for a back-off;
 *       any peer trouble falls through to the next peer and finally to the source, so peers
 *       only ever make a read faster, never fail it.
 * </ol>
 * Every block carries a CRC32C, checked on receipt; a shared token authenticates every request.
 * The port serves whole model files to anyone holding the token: it belongs on a private network.
 *
 * <h2>Pieces</h2>
 * Membership (who is in the group) and the wire (how blocks travel) are separate, as are
 * groupcache's {@code consistenthash} and {@code http} parts.
 * <ul>
 *   <li>{@link io.cachefs.peer.PeerAddress} — a member's {@code host:port}, also its name in
 *       the ring.
 *   <li>{@link io.cachefs.peer.PeerSpec} — the {@code --peers} / {@code cache.peers} items:
 *       {@code host:port}, {@code dns:NAME:PORT} (e.g. a Kubernetes headless Service),
 *       {@code file:PATH}.
 *   <li>{@link io.cachefs.peer.Membership} — the current members including self (and the rule
 *       by which an instance recognises itself in the list), re-resolved every few seconds,
 *       and which of them are live. Package-private helpers: {@code SpecResolver} (items to
 *       addresses, keeping the last answer on failure) and {@code PeerHealth} (back-offs).
 *   <li>{@link io.cachefs.peer.Rendezvous} — highest-random-weight ranking of members per
 *       block key.
 *   <li>{@code BlockServer} — serves this instance's blocks over HTTP/1.1
 *       ({@code GET /v1/blocks/...}, memory-only or load mode) from {@code LocalBlocks}, the
 *       daemon's cache and source.
 *   <li>{@code PeerClient} — fetches a block from a peer into the caller's memory, with a
 *       timeout; the outcome is a {@code PeerFetch} value, never an exception.
 *   <li>{@code BlockRequest} — one block asked of a peer; {@code PeerToken} — the group's
 *       shared secret.
 *   <li>{@code PeerLoader} — the cache's loader on a miss: memory-only ranks, then the owner,
 *       then the source, following the steps above.
 * </ul>
 */
package io.cachefs.peer;
