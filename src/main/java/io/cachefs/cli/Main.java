package io.cachefs.cli;

import io.cachefs.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import java.util.concurrent.Callable;

/** The {@code cachefs} command: parses the command line and turns every user error into one line and exit code 2. */
@Command(name = "cachefs", mixinStandardHelpOptions = true, version = "cachefs 0.1.0",
        description = "A read-only FUSE mount that keeps model files read from a slow source directory in memory.",
        subcommands = {MountCommand.class, RunCommand.class, StatusCommand.class, WarmupCommand.class, DemoCommand.class})
public final class Main implements Callable<Integer> {
    static final int EXIT_USAGE = 2;

    /** No command given: a usage error, so a script that forgot the command does not pass for a success. */
    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        System.err.println("cachefs: no command given: use mount, run, status, warmup or demo (see: cachefs --help)");
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        if (Runtime.version().feature() < 25) {
            System.err.println("cachefs: needs JDK 25 or newer, this is " + Runtime.version());
            return EXIT_USAGE;
        }
        return commandLine().execute(args);
    }

    /** The command line with its converters and error handling: what {@link #execute} runs, and what tests parse with. */
    static CommandLine commandLine() {
        return new CommandLine(new Main())
                .registerConverter(Size.class, text -> {
                    try {
                        return Size.parse(text);
                    } catch (IllegalArgumentException e) {
                        // picocli prints a TypeConversionException's message as it is; any other
                        // exception it prints with its class name ("java.lang.IllegalArgumentException")
                        throw new CommandLine.TypeConversionException(e.getMessage());
                    }
                })
                .setParameterExceptionHandler((e, args1) -> {
                    String help = e.getCommandLine().getCommandName();
                    System.err.println("cachefs: " + e.getMessage() + " (see: cachefs "
                            + (help.equals("cachefs") ? "" : help + " ") + "--help)");
                    return EXIT_USAGE;
                })
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof UserError || e instanceof ConfigException || e instanceof IllegalArgumentException) {
                        System.err.println("cachefs: " + e.getMessage());
                        return EXIT_USAGE;
                    }
                    throw e;
                });
    }
}
