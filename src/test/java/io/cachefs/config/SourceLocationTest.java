package io.cachefs.config;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --source and cache.path: a directory, or s3://BUCKET[/PREFIX], refused with a message that shows the right form. */
class SourceLocationTest {

    @Test
    void anS3UrlIsABucketAndAPrefixWithoutSlashesAtItsEnds() {
        assertEquals(new SourceLocation.Bucket("models", ""), SourceLocation.parse("s3://models"));
        assertEquals(new SourceLocation.Bucket("models", ""), SourceLocation.parse("s3://models/"));
        assertEquals(new SourceLocation.Bucket("models", "sd/v1"), SourceLocation.parse("s3://models/sd/v1/"));
        assertEquals("s3://models/sd/v1", SourceLocation.parse("s3://models/sd/v1/").toString());
    }

    @Test
    void anythingElseIsADirectoryMadeAbsolute() {
        assertEquals(new SourceLocation.Directory(Path.of("src").toAbsolutePath()), SourceLocation.parse("src"));
        assertEquals(new SourceLocation.Directory(Path.of("/mnt/oss")), SourceLocation.parse("/mnt/oss/./"));
    }

    @Test
    void malformedUrlsAreRefusedWithTheFormToUse() {
        for (String bad : new String[] {"s3://", "s3://A_Bucket", "s3://ab", "s3:///prefix", "s3://-models"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SourceLocation.parse(bad));
            assertTrue(e.getMessage().contains("s3://BUCKET/PREFIX"), e.getMessage());
        }
        for (String bad : new String[] {"s3://models//x", "s3://models/a/../b", "s3://models/a?x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SourceLocation.parse(bad));
            assertTrue(e.getMessage().contains("prefix"), e.getMessage());
        }
        IllegalArgumentException gs = assertThrows(IllegalArgumentException.class, () -> SourceLocation.parse("gs://b/p"));
        assertTrue(gs.getMessage().contains("is not supported"), gs.getMessage());
    }

    @Test
    void s3FlagsWithADirectorySourceAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MountSettings.builder()
                .source(Path.of("/data")).mountPoint(Path.of("/mnt")).capacityBytes(1L << 30)
                .s3Endpoint("http://127.0.0.1:9000").build());
        assertTrue(e.getMessage().startsWith("--s3-endpoint is for an s3:// source"), e.getMessage());
    }
}
