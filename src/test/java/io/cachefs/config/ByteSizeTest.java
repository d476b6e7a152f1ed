package io.cachefs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizeTest {

    @ParameterizedTest(name = "\"{0}\" is {1} bytes")
    @CsvSource(delimiter = '|', textBlock = """
            4096      | 4096
            0         | 0
            4K        | 4096
            4k        | 4096
            64KiB     | 65536
            64kib     | 65536
            512M      | 536870912
            512MB     | 536870912
            20G       | 21474836480
            2GB       | 2147483648
            2GiB      | 2147483648
            1.5T      | 1649267441664
            0.5K      | 512
            .5M       | 524288
            1.3K      | 1331
            '20 G'    | 21474836480
            ' 8M '    | 8388608
            100B      | 100
            1P        | 1125899906842624
            8191P     | 9222246136947933184
            """)
    void parsesBytesAndBinaryUnits(String text, long bytes) {
        assertEquals(bytes, ByteSize.parse(text));
    }

    @ParameterizedTest(name = "\"{0}\" is rejected")
    @ValueSource(strings = {"", "  ", "20X", "abc", "G", "1.5", "-1G", "-5", "1e9", "1,5G", "12 34",
            "5iB", "0x10", "1GG", "∞"})
    void rejectsWhatIsNotASizeNamingTheValueAndTheAcceptedForms(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));

        assertTrue(e.getMessage().startsWith("\"" + text + "\" is not a size: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("use a number of bytes or a number with K, M, G or T, like 512M or 20G"),
                e.getMessage());
    }

    @ParameterizedTest
    @NullSource
    void rejectsNull(String text) {
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
    }

    @Test
    void negativeSizeSaysSizesCannotBeNegative() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("-1G"));
        assertTrue(e.getMessage().contains("cannot be negative"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"8192P", "9999999999T", "99999999999999999999"})
    void rejectsSizesBeyondALong(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
        assertEquals("\"" + text + "\" is too large: sizes go up to 8 EiB (8192P)", e.getMessage());
    }

    @Test
    void parsePositiveRejectsZero() {
        assertEquals(1024, ByteSize.parsePositive("1K"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parsePositive("0G"));
        assertTrue(e.getMessage().startsWith("\"0G\" is not a size greater than zero"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} bytes read as \"{1}\"")
    @CsvSource(delimiter = '|', textBlock = """
            0                   | 0 B
            1000                | 1000 B
            1024                | 1 KiB
            1536                | 1.5 KiB
            4194304             | 4 MiB
            1610612736          | 1.5 GiB
            21474836480         | 20 GiB
            1649267441664       | 1.5 TiB
            1073741823          | 1 GiB
            1048575             | 1 MiB
            9223372036854775807 | 8 EiB
            """)
    void formatsForHumansWithOneDecimal(long bytes, String text) {
        assertEquals(text, ByteSize.format(bytes));
    }

    @Test
    void formatRefusesNegativeSizes() {
        assertThrows(IllegalArgumentException.class, () -> ByteSize.format(-1));
    }
}
