package io.cachefs.fuse;

/**
 * A snapshot of a mount's request workers.
 *
 * @param running workers now, waiting or serving
 * @param idle workers waiting for a request
 * @param peak the most that ran at once
 * @param max the most that may run at once
 * @param died workers stopped by an unexpected error (a bug: each is logged)
 */
public record WorkerStats(int running, int idle, int peak, int max, long died) {}
