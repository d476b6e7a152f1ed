package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachefs.config.HostPort;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code cachefs status}: a running daemon at a glance, from its {@code /status} JSON. Exit 0
 * with the summary, 1 when no daemon answers there, 2 for a malformed address.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print what a running daemon holds and how it is doing (from its --admin /status).")
final class StatusCommand implements Callable<Integer> {
    static final String DEFAULT_ADMIN = "127.0.0.1:9100";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Option(names = "--admin", paramLabel = "HOST:PORT", defaultValue = DEFAULT_ADMIN,
            description = "The daemon's --admin address (default ${DEFAULT-VALUE}).")
    String admin;

    @Option(names = "--json", description = "Print the /status JSON as it is.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        HostPort where = HostPort.parse("--admin", admin);
        String body;
        try {
            body = fetch(where);
        } catch (DaemonUnreachable e) {
            System.err.println("cachefs: " + e.getMessage());
            return 1;
        }
        if (json) {
            System.out.println(body);
            return 0;
        }
        JsonNode status;
        try {
            status = new ObjectMapper().readTree(body);
        } catch (IOException e) {
            System.err.println("cachefs: " + where.httpBase() + "/status did not answer JSON: is it a cachefs daemon?");
            return 1;
        }
        System.out.print(StatusReport.format(admin, status));
        return 0;
    }

    /** The body of {@code GET /status}. */
    static String fetch(HostPort where) throws DaemonUnreachable, InterruptedException {
        URI uri = URI.create(where.httpBase() + "/status");
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new DaemonUnreachable(uri + " answered " + response.statusCode() + ": "
                        + response.body().strip());
            }
            return response.body();
        } catch (ConnectException e) {
            throw new DaemonUnreachable("no cachefs daemon answers on " + where.httpBase()
                    + ": start it with --admin " + DEFAULT_ADMIN + ", or pass its address with --admin HOST:PORT");
        } catch (HttpTimeoutException e) {
            throw new DaemonUnreachable(uri + " did not answer within " + TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            throw new DaemonUnreachable("could not read " + uri + ": " + e.getMessage());
        }
    }

    /** No daemon to ask: a runtime failure (exit 1), not bad input. */
    static final class DaemonUnreachable extends Exception {
        DaemonUnreachable(String message) {
            super(message, null, false, false);
        }
    }
}
