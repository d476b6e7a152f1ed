package io.cachefs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Hosts with links of their own, on this machine: a network namespace per host, each joined by a
 * veth pair to a bridge in a hub namespace, each link capped both ways by tbf. Made by the test
 * and removed on close, even after a failure; traffic never leaves them. Names carry this JVM's
 * pid, so concurrent runs never collide.
 */
final class NetworkNamespaces implements AutoCloseable {

    private final String prefix = "cft" + ProcessHandle.current().pid();
    private final String hub = prefix + "h";
    private final int hosts;
    private final List<String> made = new ArrayList<>();

    /**
     * @param hosts how many hosts, 10.233.0.1 and up
     * @param rate each link's cap in each direction, as tc writes it (e.g. {@code 200mbit})
     */
    NetworkNamespaces(int hosts, String rate) throws IOException, InterruptedException {
        this.hosts = hosts;
        try {
            run("ip", "netns", "add", hub);
            made.add(hub);
            run("ip", "-n", hub, "link", "set", "lo", "up");
            run("ip", "-n", hub, "link", "add", "br0", "type", "bridge");
            run("ip", "-n", hub, "link", "set", "br0", "up");
            for (int i = 0; i < hosts; i++) {
                String ns = namespace(i);
                String inside = prefix + "a" + i;
                String outside = prefix + "b" + i;
                run("ip", "netns", "add", ns);
                made.add(ns);
                run("ip", "link", "add", inside, "type", "veth", "peer", "name", outside);
                run("ip", "link", "set", inside, "netns", ns);
                run("ip", "link", "set", outside, "netns", hub);
                run("ip", "-n", ns, "link", "set", "lo", "up");
                run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", inside);
                run("ip", "-n", ns, "link", "set", inside, "up");
                run("ip", "-n", hub, "link", "set", outside, "master", "br0");
                run("ip", "-n", hub, "link", "set", outside, "up");
                run("tc", "-n", ns, "qdisc", "add", "dev", inside, "root", "tbf", "rate", rate, "burst", "256kb",
                        "latency", "100ms");
                run("tc", "-n", hub, "qdisc", "add", "dev", outside, "root", "tbf", "rate", rate, "burst", "256kb",
                        "latency", "100ms");
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    int hosts() {
        return hosts;
    }

    /** Host {@code i}'s address. */
    String address(int i) {
        return "10.233.0." + (i + 1);
    }

    String namespace(int i) {
        return prefix + "n" + i;
    }

    /** What runs {@code command} in host {@code i}'s network (the mount namespace stays the machine's). */
    List<String> inHost(int i) {
        return List.of("nsenter", "--net=/run/netns/" + namespace(i), "--");
    }

    /** Runs a short command in host {@code i}'s network and returns its output. */
    String output(int i, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(inHost(i));
        full.addAll(List.of(command));
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("timed out: " + full);
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
    }

    /** Deletes every namespace made (their veths go with them). */
    @Override
    public void close() throws IOException, InterruptedException {
        for (String ns : made.reversed()) {
            new ProcessBuilder("ip", "netns", "del", ns).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        }
        made.clear();
    }
}
