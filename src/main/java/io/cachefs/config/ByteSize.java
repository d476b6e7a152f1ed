package io.cachefs.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes as people write them in flags and service files ("512M", "20G", "1.5T", "64KiB",
 * "4096") and as people like to read them ("1.5 GiB"). Units are binary multiples of 1024,
 * whether or not they are spelled with an "i" or a "B": a cache capacity of "20G" is 20 GiB, as
 * in the reference product. Case does not matter; a fraction needs a unit and is rounded down to
 * whole bytes.
 */
public final class ByteSize {

    static final String ACCEPTED_FORMS =
            "use a number of bytes or a number with K, M, G or T, like 512M or 20G";

    private static final Pattern SIZE = Pattern.compile(
            "(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*(?:([KMGTP])(I)?)?(B)?", Pattern.CASE_INSENSITIVE);
    private static final String UNIT_LETTERS = "KMGTP";
    private static final String[] BINARY_UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private ByteSize() {}

    /**
     * The number of bytes {@code text} stands for; zero is allowed.
     *
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    public static long parse(String text) {
        String trimmed = text == null ? "" : text.strip();
        Matcher m = SIZE.matcher(trimmed);
        if (!m.matches()) {
            String why = trimmed.startsWith("-") ? "sizes cannot be negative; " : "";
            throw new IllegalArgumentException(quoted(text) + " is not a size: " + why + ACCEPTED_FORMS);
        }
        String unit = m.group(2);
        if (unit == null && m.group(1).contains(".")) {
            throw new IllegalArgumentException(quoted(text) + " is not a size: a number of bytes must be whole; "
                    + ACCEPTED_FORMS);
        }
        int power = unit == null ? 0 : UNIT_LETTERS.indexOf(Character.toUpperCase(unit.charAt(0))) + 1;
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(1024).pow(power))
                .setScale(0, RoundingMode.FLOOR);
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(quoted(text) + " is too large: sizes go up to 8 EiB (8192P)");
        }
        return bytes.longValueExact();
    }

    /**
     * Like {@link #parse} for quantities that cannot be zero, such as a capacity.
     *
     * @throws IllegalArgumentException naming the text if it is not a size or is zero
     */
    public static long parsePositive(String text) {
        long bytes = parse(text);
        if (bytes == 0) {
            throw new IllegalArgumentException(quoted(text) + " is not a size greater than zero: "
                    + ACCEPTED_FORMS);
        }
        return bytes;
    }

    /** {@code bytes} in the largest binary unit that keeps it at least 1, with one decimal: "1.5 GiB". */
    public static String format(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot format a negative size: " + bytes);
        }
        int unit = 0;
        while (unit + 1 < BINARY_UNITS.length && bytes >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        BigDecimal value = BigDecimal.valueOf(bytes)
                .divide(BigDecimal.valueOf(1L << (10 * unit)), 1, RoundingMode.HALF_UP);
        if (value.compareTo(BigDecimal.valueOf(1024)) >= 0 && unit + 1 < BINARY_UNITS.length) {
            unit++;
            value = BigDecimal.ONE.setScale(1);
        }
        return value.stripTrailingZeros().toPlainString() + " " + BINARY_UNITS[unit];
    }

    private static String quoted(String text) {
        return text == null ? "\"\"" : '"' + text.replace("\"", "\\\"") + '"';
    }
}
