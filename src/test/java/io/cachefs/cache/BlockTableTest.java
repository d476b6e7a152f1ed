package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.cachefs.cache.Block.State;
import io.cachefs.source.FileVersion;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockTableTest {

    private final CachedVersion version =
            new CachedVersion(new FileVersion("f", Long.MAX_VALUE, 0), 1 << 22, 1L << 40, null);

    @Test
    void agreesWithAHashMapUnderRandomAddsAndRemoves() {
        BlockTable table = new BlockTable();
        Map<Long, Block> model = new HashMap<>();
        Random random = new Random(7);
        for (int step = 0; step < 200_000; step++) {
            // few distinct keys (many collisions and removals), then far-apart ones
            long index = step < 100_000 ? random.nextInt(300) : random.nextLong(1L << 40);
            Block present = model.get(index);
            if (present == null && random.nextInt(3) != 0) {
                Block block = new Block(version, index, 0, 1, State.QUEUED);
                table.add(block);
                model.put(index, block);
            } else if (present != null) {
                table.remove(present);
                model.remove(index);
            }
            assertSame(model.get(index), table.get(index));
            assertEquals(model.size(), table.size());
        }
        model.forEach((index, block) -> assertSame(block, table.get(index)));
        int[] seen = {0};
        table.forEach(block -> {
            assertSame(model.get(block.index), block);
            seen[0]++;
        });
        assertEquals(model.size(), seen[0]);
    }

    @Test
    void removingABlockThatIsNotTheTablesOwnIsANoOp() {
        BlockTable table = new BlockTable();
        Block kept = new Block(version, 5, 0, 1, State.QUEUED);
        table.add(kept);
        table.remove(new Block(version, 5, 0, 1, State.QUEUED));
        table.remove(new Block(version, 6, 0, 1, State.QUEUED));
        assertSame(kept, table.get(5));
        assertEquals(1, table.size());
    }
}
