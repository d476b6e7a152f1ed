package io.cachefs.peer;

import io.cachefs.source.FileVersion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rendezvous (highest-random-weight) hashing: which members own a block, in order.
 *
 * <p>Each member scores each key with a hash of the pair; the highest score owns the key and the
 * next ones are its fallbacks. Unlike a hash ring this needs no virtual nodes to balance, and a
 * change of membership moves only the keys whose top scorer changed: a new member takes about
 * 1/n of the keys (from everyone, evenly) and a leaving member's keys spread over the rest, which
 * is why an owner that lacks a block asks the next ranks' memory first — they owned it before the
 * group grew.
 *
 * <p>Scores must agree on every instance, so they depend only on the member's text form and the
 * key: FNV-1a 64 over the chars (deterministic, unlike anything seeded per JVM), finished with the
 * SplitMix64/murmur3 mixer because FNV alone leaves the high bits weakly mixed. Cost is a few
 * nanoseconds per member and key char; it runs once per block miss.
 */
public final class Rendezvous {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    /** 2^64 / golden ratio: separates the key's hash from the member's before they are mixed. */
    private static final long GOLDEN = 0x9e3779b97f4a7c15L;

    private Rendezvous() {
    }

    /**
     * All {@code members}, highest score for {@code key} first: the owner, then its fallbacks.
     * Equal scores (astronomically rare) are ordered by member name, so the order is still total.
     */
    public static List<PeerAddress> rank(List<PeerAddress> members, String key) {
        int n = members.size();
        long keyHash = hash(key) * GOLDEN;
        long[] scores = new long[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            scores[i] = score(members.get(i), keyHash);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int byScore = Long.compareUnsigned(scores[b], scores[a]);
            return byScore != 0 ? byScore : members.get(a).compareTo(members.get(b));
        });
        List<PeerAddress> ranked = new ArrayList<>(n);
        for (Integer i : order) {
            ranked.add(members.get(i));
        }
        return List.copyOf(ranked);
    }

    /** The top of {@link #rank}: the member that owns {@code key}, or null if there are none. */
    public static PeerAddress owner(List<PeerAddress> members, String key) {
        long keyHash = hash(key) * GOLDEN;
        PeerAddress best = null;
        long bestScore = 0;
        for (PeerAddress member : members) {
            long score = score(member, keyHash);
            if (best == null || beats(score, member, bestScore, best)) {
                best = member;
                bestScore = score;
            }
        }
        return best;
    }

    /**
     * An owner for each of the {@code count} blocks of {@code file} such that no member owns more
     * than its share (count / n, rounded up): rendezvous hashing with bounded loads, blocks taken in
     * index order, each by the highest scorer that still has room. The swarm's owners fetch their
     * blocks from a warm member one after another, so the member with the most blocks sets when the
     * last block leaves that uplink. With plain rendezvous one of eight members owns 11 or more
     * of 64 blocks for many files (their mean is 8), and the warm uplink ends with that member's
     * fetches alone on it, each sharing the member's downlink with its other streams. Every
     * member computes the same owners from the same list.
     */
    public static PeerAddress[] boundedOwners(List<PeerAddress> members, FileVersion file, int count) {
        int n = members.size();
        PeerAddress[] owners = new PeerAddress[count];
        if (n == 0) {
            return owners;
        }
        long[] memberHashes = new long[n];
        for (int i = 0; i < n; i++) {
            memberHashes[i] = hash(members.get(i).toString());
        }
        int cap = Math.ceilDiv(count, n);
        int[] owned = new int[n];
        for (int index = 0; index < count; index++) {
            long keyHash = hash(blockKey(file, index)) * GOLDEN;
            int best = -1;
            long bestScore = 0;
            for (int i = 0; i < n; i++) {
                if (owned[i] >= cap) {
                    continue;
                }
                long score = mix(memberHashes[i] ^ keyHash);
                if (best < 0 || beats(score, members.get(i), bestScore, members.get(best))) {
                    best = i;
                    bestScore = score;
                }
            }
            owned[best]++;
            owners[index] = members.get(best);
        }
        return owners;
    }

    /**
     * The rendezvous key of one block: the file version and the index, with separators no path can
     * contain, so two different blocks never share a key.
     */
    public static String blockKey(FileVersion file, long index) {
        return file.path() + '\0' + file.size() + '\0' + file.mtimeNanos() + '\0' + file.tag() + '\0' + index;
    }

    /** True if {@code member} with {@code score} ranks above {@code best}: a higher score, or an equal one and a lower name. */
    private static boolean beats(long score, PeerAddress member, long bestScore, PeerAddress best) {
        int byScore = Long.compareUnsigned(score, bestScore);
        return byScore > 0 || (byScore == 0 && member.compareTo(best) < 0);
    }

    private static long score(PeerAddress member, long keyHash) {
        return mix(hash(member.toString()) ^ keyHash);
    }

    /** FNV-1a 64 over both bytes of each char, then mixed so every bit depends on every char. */
    static long hash(String text) {
        long h = FNV_OFFSET;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            h = (h ^ (c >>> 8)) * FNV_PRIME;
        }
        return mix(h);
    }

    /** The SplitMix64 finalizer (Stafford's variant 13 of murmur3's fmix64): a bijective avalanche. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
