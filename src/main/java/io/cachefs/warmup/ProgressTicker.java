package io.cachefs.warmup;

/** The thread that asks a {@link Warmup} where it is and tells the {@link Progress}, every tick until closed. */
public final class ProgressTicker implements AutoCloseable {
    private final Thread thread;

    private ProgressTicker(Thread thread) {
        this.thread = thread;
    }

    public static ProgressTicker start(Warmup warmup, Progress progress) {
        return new ProgressTicker(Thread.ofPlatform().daemon().name("warmup-progress").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(progress.tickMillis());
                    progress.update(warmup.snapshot());
                }
            } catch (InterruptedException e) {
                // closed
            }
        }));
    }

    @Override
    public void close() throws InterruptedException {
        thread.interrupt();
        thread.join();
    }
}
