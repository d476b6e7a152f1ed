package io.cachefs.admin;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes every request of the admin server: a ladder of guard clauses, each ending in one
 * {@link #sendError}, then the endpoint's answer. Stateless, so one instance serves all
 * connections. Nothing thrown by an endpoint reaches the client beyond a one-line message; the
 * stack trace goes to the log.
 */
final class AdminHandler implements HttpHandler {

    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);

    private final Map<String, Endpoint> endpoints;

    /** @param endpoints by exact path, e.g. {@code /metrics} */
    AdminHandler(Map<String, Endpoint> endpoints) {
        this.endpoints = Map.copyOf(endpoints);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            // The method is checked first, as the Netty examples do: this server serves
            // nothing but GET, whatever the path.
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET");
                sendError(exchange, 405, "method not allowed: " + exchange.getRequestMethod());
                return;
            }
            String path = exchange.getRequestURI().getPath();
            Endpoint endpoint = endpoints.get(path);
            if (endpoint == null) {
                sendError(exchange, 404, "not found: " + path + " (try /metrics or /status)");
                return;
            }
            Response response;
            try {
                response = endpoint.get();
            } catch (Exception e) {
                log.warn("admin endpoint {} failed", path, e);
                sendError(exchange, 500, "internal error serving " + path + ": " + oneLine(e));
                return;
            }
            send(exchange, 200, response);
        }
    }

    private static void sendError(HttpExchange exchange, int status, String message)
            throws IOException {
        send(exchange, status,
                new Response("text/plain; charset=utf-8", (message + "\n").getBytes(UTF_8)));
    }

    private static void send(HttpExchange exchange, int status, Response response)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", response.contentType());
        exchange.sendResponseHeaders(status, response.body().length);
        try (OutputStream body = exchange.getResponseBody()) {
            body.write(response.body());
        }
    }

    /** The exception's class and message on one line, so the body never grows a trace. */
    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? "" : ": " + e.getMessage();
        return (e.getClass().getSimpleName() + message).replaceAll("[\\r\\n]+", " ");
    }
}
