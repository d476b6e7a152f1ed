package io.cachefs.peer;

import io.cachefs.cache.LoadOrder;
import io.cachefs.source.FileVersion;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The order in which a member loads a file that other members hold: a swarm, as BitTorrent
 * and Dragonfly distribute a file, rather than every new member reading the same block from the
 * same holder at the same moment.
 *
 * <h2>Which holder, then which block</h2>
 * Each time a stream needs work, it first picks a holder: the one this member has the fewest
 * fetches running at (counting blocks picked but not yet asked for), and among equals a holder of
 * the whole file (a warm member) first, then any at random. So each stream of a new member goes
 * to another holder: one keeps the warm member's uplink busy, the others fetch from the members
 * that joined with it. From that holder it takes the rarest block it lacks (held by the fewest
 * members). From a holder of the whole file (a warm member) it takes only the blocks it is the
 * <em>swarm owner</em> of: the top rendezvous rank among the members that lack the file, each
 * owning at most its share ({@link Rendezvous#boundedOwners}). Every
 * other member gets such a block from its swarm owner (asking it to load it, {@link PeerLoader}),
 * so the warm member's uplink carries each block about once, whatever the number of new members. What a member loaded it
 * serves at once, while it still downloads the rest, and a block still arriving it passes on as
 * it lands ({@link Arrival}); its tracker hears of it within a fraction of a second ({@link
 * Announcer}), the others' views within another ({@link HolderLookup}).
 *
 * <p>Blocks nobody else holds are left to file order (-1): an owner loads them from the source.
 *
 * <h2>Threads</h2>
 * {@link #pick} runs under the cache lock and only reads the latest {@link View}, which
 * {@link #update} rebuilds outside it whenever the holder list is refreshed.
 */
final class SwarmOrder implements LoadOrder {

    /**
     * Blocks in flight per new member: enough to fill a link from several holders at once. A
     * block another new member passes on while it arrives ({@link Arrival}) comes at the pace it
     * arrives there, a share of the warm uplink, so it takes several of those to fill a link:
     * bench/scale-out N = 8, alternating, 4 streams 33.5-34.7 s, 8 streams 34.1 s, 8 streams with
     * blocks passed on 30.0-31.0 s; then, 8 against 12 with blocks passed on, 3 pairs: 31.30/30.07,
     * 31.50/29.58, 30.76/28.83 s (paired median 0.94x).
     */
    static final int STREAMS = 12;
    /** A pick whose block was never asked for (another stream took it) stops counting after this. */
    private static final long PLAN_EXPIRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    /**
     * Who holds what, without this member, and each block's swarm owner; built outside the cache
     * lock. The swarm owner of a block is the top rendezvous rank among the live members that do
     * not hold the whole file: the one new member that fetches it from a warm one.
     */
    private record View(PeerAddress[] holders, BitSet[] blocks, boolean[] complete, int[] availability,
            PeerAddress[] owners, boolean crowd) {
        /** Holder {@code i} is asked for one block at a time: see {@link SwarmOrder#oneAtATimeFrom}. */
        boolean oneAtATime(int i) {
            return crowd && complete[i];
        }
    }

    private record Plan(PeerAddress holder, long madeNanos) {}

    private static final PeerAddress[] NO_OWNERS = new PeerAddress[0];

    private final FileVersion file;
    private final int blockCount;
    private final Membership membership;
    private final HolderLookup lookup;
    private final InFlightFetches inFlight;
    private final Map<Long, Plan> planned = new ConcurrentHashMap<>();
    /** Used under the cache lock only. */
    private final SplittableRandom random;
    private volatile View view;
    /** The ring the swarm owners were computed for, and those owners; touched by update() only. */
    private List<PeerAddress> ownersRing;
    private PeerAddress[] ownersOf = NO_OWNERS;

    SwarmOrder(FileVersion file, int blockSize, Membership membership, HolderLookup lookup, InFlightFetches inFlight) {
        this.file = file;
        this.blockCount = (int) Math.ceilDiv(file.size(), blockSize);
        this.membership = membership;
        this.lookup = lookup;
        this.inFlight = inFlight;
        this.random = new SplittableRandom(Rendezvous.hash(membership.self() + "\0" + Rendezvous.blockKey(file, -1)));
    }

    /** New holder list: rebuilds the view (outside the cache lock). */
    synchronized void update(Holdings holdings) {
        PeerAddress self = membership.self();
        List<PeerAddress> holders = new ArrayList<>();
        List<BitSet> blocks = new ArrayList<>();
        List<PeerAddress> seeds = new ArrayList<>();
        int[] availability = new int[blockCount];
        holdings.byMember().forEach((member, held) -> {
            if (!member.equals(self)) {
                holders.add(member);
                blocks.add(held);
                for (int i = held.nextSetBit(0); i >= 0 && i < blockCount; i = held.nextSetBit(i + 1)) {
                    availability[i]++;
                }
                if (held.cardinality() >= blockCount) {
                    seeds.add(member);
                }
            }
        });
        boolean[] complete = new boolean[holders.size()];
        for (int i = 0; i < complete.length; i++) {
            complete[i] = blocks.get(i).cardinality() >= blockCount;
        }
        List<PeerAddress> ring = new ArrayList<>(membership.liveMembers());
        ring.removeAll(seeds);
        if (seeds.isEmpty()) {
            // nobody holds the whole file: a block nobody holds is a source read, which its plain
            // rendezvous owner makes for the group (PeerLoader); other owners would make a second
            ownersRing = null;
            ownersOf = NO_OWNERS;
        } else if (!ring.equals(ownersRing)) {
            ownersRing = ring;
            ownersOf = Rendezvous.boundedOwners(ring, file, blockCount);
        }
        view = new View(holders.toArray(PeerAddress[]::new), blocks.toArray(BitSet[]::new), complete, availability,
                ownersOf, ring.size() > 1);
    }

    /**
     * The member that fetches block {@code index} from a warm member for the others (see
     * {@link View}), or null if unknown yet or if no member holds the whole file. Others ask it
     * to load the block rather than all asking the warm member, whose uplink then carries each
     * block about once.
     */
    PeerAddress swarmOwner(long index) {
        View v = view;
        return v == null || index >= v.owners().length ? null : v.owners()[(int) index];
    }

    /**
     * True if this member should fetch from {@code holder} one block at a time: it holds the whole
     * file and other members lack it too. Its uplink then sends whole blocks one after another
     * (each member's one fetch at full share) rather than a sliver of every block at once, so
     * blocks are complete early and the new members pass them on to each other while it sends the
     * rest; many fetches at once from a warm member would finish every block near the end and
     * leave the others' uplinks idle until then.
     */
    boolean oneAtATimeFrom(PeerAddress holder) {
        View v = view;
        if (v == null) {
            return false;
        }
        for (int i = 0; i < v.holders().length; i++) {
            if (v.holders()[i].equals(holder)) {
                return v.oneAtATime(i);
            }
        }
        return false;
    }

    @Override
    public int streams() {
        View v = view;
        return v != null && v.holders().length > 0 ? STREAMS : 0;
    }

    @Override
    public long pick(BitSet pending) {
        lookup.touch(file);
        View v = view;
        if (v == null || v.holders().length == 0) {
            return -1;
        }
        long now = System.nanoTime();
        planned.values().removeIf(plan -> now - plan.madeNanos() > PLAN_EXPIRY_NANOS);
        // holders by how busy this member keeps them; among equals a holder of the whole file first
        // (its uplink carries what nobody else has yet), then at random
        int n = v.holders().length;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            PeerAddress holder = v.holders()[i];
            int busy = inFlight.count(holder) + plannedAt(holder);
            boolean usable = membership.isLive(holder) && v.blocks()[i].intersects(pending)
                    && !(v.oneAtATime(i) && busy > 0);
            int load = 2 * busy + (v.complete()[i] ? 0 : 1);
            keys[i] = usable ? ((long) load << 32) | random.nextInt(1 << 30) : Long.MAX_VALUE;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Long.compare(keys[a], keys[b]));
        for (int i : order) {
            if (keys[i] == Long.MAX_VALUE) {
                break;
            }
            long chosen = rarest(v, i, pending);
            if (chosen >= 0) {
                planned.put(chosen, new Plan(v.holders()[i], now));
                return chosen;
            }
        }
        return -1;
    }

    /**
     * The pending block of holder {@code h} held by the fewest members, at random among equals;
     * from a holder of the whole file only the blocks this member is the swarm owner of. -1 if none.
     */
    private long rarest(View v, int h, BitSet pending) {
        BitSet candidates = (BitSet) v.blocks()[h].clone();
        candidates.and(pending);
        PeerAddress self = membership.self();
        boolean seed = v.complete()[h];
        long chosen = -1;
        int bestScore = Integer.MAX_VALUE;
        int ties = 0;
        for (int index = candidates.nextSetBit(0); index >= 0 && index < blockCount;
                index = candidates.nextSetBit(index + 1)) {
            if (planned.containsKey((long) index) || (seed && !self.equals(v.owners()[index]))) {
                continue; // from a warm member only the blocks this member fetches for the others
            }
            int score = v.availability()[index];
            if (score < bestScore) {
                chosen = index;
                bestScore = score;
                ties = 1;
            } else if (score == bestScore && random.nextInt(++ties) == 0) {
                chosen = index;
            }
        }
        return chosen;
    }

    /** The holder {@link #pick} chose for block {@code index}, now being asked; null if none. */
    PeerAddress take(long index) {
        Plan plan = planned.remove(index);
        return plan == null ? null : plan.holder();
    }

    private int plannedAt(PeerAddress holder) {
        int count = 0;
        for (Plan plan : planned.values()) {
            count += plan.holder().equals(holder) ? 1 : 0;
        }
        return count;
    }
}
