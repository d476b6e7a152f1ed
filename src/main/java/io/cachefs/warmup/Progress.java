package io.cachefs.warmup;

/**
 * What a person or a script sees of a warm-up while it runs. Called from reader threads
 * ({@link #fileDone}) and from one ticking thread ({@link #update}); implementations synchronize.
 */
public interface Progress {
    /** A file finished (read, failed, or found cached). */
    void fileDone(Warmup.FileResult result, Warmup.Snapshot now);

    /** Called every {@link #tickMillis()} while the warm-up runs. */
    void update(Warmup.Snapshot now);

    /** The warm-up ended; nothing follows. */
    void finish(Warmup.Snapshot now);

    /** How often {@link #update} is wanted. */
    long tickMillis();

    /** Shows nothing: for {@code --json}, whose one document is the whole output. */
    Progress NONE = new Progress() {
        @Override
        public void fileDone(Warmup.FileResult result, Warmup.Snapshot now) {
        }

        @Override
        public void update(Warmup.Snapshot now) {
        }

        @Override
        public void finish(Warmup.Snapshot now) {
        }

        @Override
        public long tickMillis() {
            return 1000;
        }
    };
}
