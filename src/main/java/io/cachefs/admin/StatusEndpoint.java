package io.cachefs.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/** {@code GET /status}: the {@link Status} document as JSON. */
final class StatusEndpoint implements Endpoint {

    private final ObjectMapper json = new ObjectMapper();
    private final List<MonitoredMount> mounts;

    StatusEndpoint(List<MonitoredMount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    @Override
    public Response get() throws Exception {
        return new Response("application/json", json.writeValueAsBytes(Status.of(mounts)));
    }
}
