/**
 * The peer group: instances of one service that fetch blocks from each other's memory, so that
 * each block is read from the slow source once for the whole group, whatever the group's
 * history, and new instances warm from all of their neighbours at once, like a swarm.
 *
 * <h2>Read path on a local miss</h2>
 * <ol>
 *   <li><b>Who holds it.</b> Each file version has trackers, the first two live members ranked
 *       by rendezvous hashing of the version's key ({@link io.cachefs.peer.Tracker}). Members
 *       announce to them what they hold, in batches ({@code Announcer}); a member loading the
 *       version asks them who holds what ({@code HolderLookup}). A tracker that never polled for
 *       a version (one that just joined) first asks every member it knows: a block held anywhere
 *       is found, also right after the group grew and while members' views of it differ.
 *   <li><b>From the holders,</b> memory-only: a swarm's order ({@code SwarmOrder}) spreads a new
 *       member's streams over the holders and takes the rarest blocks first, so new members pull
 *       different blocks from a warm one and then from each other, serving what they have while
 *       they still download.
 *   <li><b>The owner.</b> Nobody holds it: the block's owner (top rendezvous rank of the block) is
 *       asked to load it, for the whole group (its cache's singleflight), or to say who holds it
 *       (307, "ask X"); a load a peer asked for is never forwarded, a redirect only leads to
 *       memory-only requests: nothing loops, whatever the views.
 *   <li><b>The source,</b> only when no live member has the block. A dead, hung or stopped peer
 *       costs one short timeout, whatever was asked of it (a member working on a long load or
 *       holder list says so with {@code 102} heartbeats), after which it is
 *       {@linkplain io.cachefs.peer.Membership#markFailed marked} and skipped for a back-off by
 *       every request: memory copies, owner loads and holder lists alike.
 * </ol>
 * Every block carries a CRC32C, checked on receipt: it proves the bytes arrived as the peer sent
 * them, not that they are the block's. So a block is also checked against its <em>digest</em>
 * where one is known: this member's own ({@code KnownDigests}: blocks it read from the source or
 * verified before, kept past eviction), else the trackers'. The member that reads a block from the
 * source announces its CRC32C with what it holds; a tracker keeps the first word per block, none
 * once two members disagree (logged, naming both: {@code TrackedDigests}), and hands the digests
 * out with the holder list ({@code BlockDigests} on the wire). A peer whose bytes do not match
 * holds wrong bytes: they are never used, the block is asked elsewhere, and the peer is skipped
 * for a back-off. Not caught: a member that lies about a block before anyone announced its
 * digest, or a lying tracker. Every request is signed with HMAC-SHA256
 * under the group's shared secret, which never travels ({@code PeerToken}), and the port caps
 * connections and the time a request may take to arrive. It serves whole model files to anyone
 * holding the secret: it belongs on a private network. Optionally the wire runs inside mutual
 * TLS 1.3 ({@link io.cachefs.peer.PeerTls}): both sides present the group's certificate and check
 * the other's chain (not its host name: members are IPs sharing one certificate), so a client
 * without the group's key cannot send a request, and nobody on the network reads the blocks. A
 * member with other TLS settings than its peers gets nothing from them and reads the source.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link io.cachefs.peer.PeerAddress}, {@link io.cachefs.peer.PeerSpec},
 *       {@link io.cachefs.peer.Membership} (with {@code SpecResolver}, {@code PeerHealth}): who
 *       is in the group, as this instance sees it, and who is live.
 *   <li>{@link io.cachefs.peer.Rendezvous}: highest-random-weight ranking of members per key.
 *   <li>Holder lists: {@code Holdings} (member to block bitmap), {@code HolderDirectory} (a
 *       tracker's memory), {@code Tracker}, {@code HolderLookup}, {@code Announcer} with
 *       {@code Announcement}; block digests: {@code BlockDigests} (the wire value),
 *       {@code KnownDigests} (this member's first-hand ones), {@code TrackedDigests} (a tracker's,
 *       with the dispute rule).
 *   <li>The wire ({@code WireFormat}): {@code BlockServer} (Netty: bootstrap,
 *       {@code BlockServerInitializer}, {@code BlockRequestHandler}) answers from
 *       {@code LocalBlocks} and {@code GroupHolders}; {@code PeerClient} with
 *       {@code PeerConnection} and {@code ResponseHead} asks, on the loader's own thread,
 *       reading a block's body through a cache-sized slice into the block's memory; outcomes are
 *       {@code PeerFetch} values, never exceptions. With TLS: {@code TlsHandoff} puts Netty's
 *       {@code SslHandler} first in the server's pipeline (and answers plain text with 426);
 *       {@code TlsChannel} runs an {@code SSLEngine} over the client's blocking socket.
 *   <li>{@code PeerLoader} (the cache's loader and the swarm's {@code SwarmOrder}),
 *       {@code PeerCounters}, and {@link io.cachefs.peer.PeerGroup}, which assembles them.
 *   <li>Counters for {@code /metrics}, keyed by enums: {@link io.cachefs.peer.PeerResults} (the
 *       answers, and the failures by {@link io.cachefs.peer.PeerFetch.Kind}) and
 *       {@link io.cachefs.peer.PortEvent} (what the port turned away).
 * </ul>
 */
package io.cachefs.peer;
