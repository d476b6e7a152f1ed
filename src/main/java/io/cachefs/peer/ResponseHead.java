package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The status line and headers of one peer response, as {@link PeerConnection} reads them: the
 * status code, the declared body length, and the few headers the wire uses (by lower-case
 * name). The peer wire is a small, fixed subset of HTTP/1.1 ({@link WireFormat}): every answer
 * has a Content-Length, so there is nothing here for chunked bodies but a refusal.
 *
 * @param contentLength the declared body length, -1 if none was given
 * @param keepAlive false if the peer said {@code Connection: close}
 */
record ResponseHead(int status, long contentLength, boolean keepAlive, Map<String, String> headers) {

    /** A response head that cannot be read: the connection is not to be used again. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
    }

    /**
     * Parses the head in {@code bytes[0, length)}, which ends with the blank line.
     *
     * @throws Malformed if it is not an HTTP/1.x response or its length cannot be known
     */
    static ResponseHead parse(byte[] bytes, int length) throws Malformed {
        String text = new String(bytes, 0, length, ISO_8859_1);
        String[] lines = text.split("\r\n");
        String statusLine = lines[0];
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
            throw new Malformed("not a valid HTTP response: " + printable(statusLine));
        }
        int status;
        try {
            status = Integer.parseInt(statusLine.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new Malformed("not a valid HTTP status: " + printable(statusLine));
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip());
        }
        if (headers.containsKey("transfer-encoding")) {
            throw new Malformed("a chunked body, where every peer answer has a Content-Length");
        }
        long contentLength = -1;
        String declared = headers.get("content-length");
        if (declared != null) {
            try {
                contentLength = Long.parseLong(declared);
            } catch (NumberFormatException e) {
                throw new Malformed("Content-Length is not a number: " + printable(declared));
            }
            if (contentLength < 0) {
                throw new Malformed("negative Content-Length");
            }
        }
        boolean keepAlive = !"close".equalsIgnoreCase(headers.getOrDefault("connection", ""))
                && !statusLine.startsWith("HTTP/1.0");
        return new ResponseHead(status, contentLength, keepAlive, Map.copyOf(headers));
    }

    private static String printable(String text) {
        String cut = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
