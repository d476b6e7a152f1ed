# Shared set-up for bin/cachefs and bin/test: find JDK 25, install what a fresh machine lacks, build.
# Sourced, not run. Prints one clear line and exits 2 when something cannot be fixed here.

CACHEFS_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

cachefs_die() { echo "cachefs: $*" >&2; exit 2; }

# The daemon's JVM flags, for bin/cachefs and every benchmark's daemon: native access for the FUSE
# and Linux calls, and the C1 compiler only (docs/ARCHITECTURE.md, "The JVM", says why). The heap
# comes after them from CACHEFS_JAVA_OPTS (default -Xmx256m), where a later -XX flag wins.
CACHEFS_DAEMON_JVM=(--enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1)

# The JDK's feature version, or 0 when $1/bin/java is missing.
cachefs_java_version() {
  [ -x "$1/bin/java" ] || { echo 0; return; }
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

cachefs_find_java() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    if [ "$(cachefs_java_version "$candidate")" -ge 25 ] 2>/dev/null && [ -x "$candidate/bin/javac" ]; then
      export JAVA_HOME="$candidate"
      return
    fi
  done
  cachefs_die "no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm): install one, e.g. Temurin 25, and set JAVA_HOME"
}

# Installs Debian packages for the commands that are missing, when we are root.
cachefs_install() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    cachefs_die "missing packages: ${missing[*]}; install them (as root: apt-get install ${missing[*]})"
  fi
  echo "cachefs: installing ${missing[*]}" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || cachefs_die "could not install ${missing[*]} with apt-get"
  fi
}

cachefs_setup() {
  cachefs_install fusermount3:fuse3 mvn:maven python3:python3
  cachefs_find_java
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
}

# What the tests drive besides CacheFS itself: tmux (the warm-up's progress bar as a person sees
# it) and promtool (Debian's prometheus package: /metrics checked by the real tool).
cachefs_test_setup() {
  cachefs_install tmux:tmux promtool:prometheus
}

# Builds target/cachefs.jar when it is missing or older than any source file.
cachefs_build() {
  local jar="$CACHEFS_HOME/target/cachefs.jar"
  if [ ! -f "$jar" ] || [ -n "$(find "$CACHEFS_HOME/src/main" "$CACHEFS_HOME/pom.xml" -newer "$jar" -print -quit)" ]; then
    echo "cachefs: building (first run takes a minute)" >&2
    local log
    log=$(mktemp)
    if ! (cd "$CACHEFS_HOME" && mvn -q -B -DskipTests package) > "$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"
      cachefs_die "build failed (see the Maven output above)"
    fi
    rm -f "$log"
  fi
}

# Compiles the test classes (the benchmarks live there) and prints the classpath that runs them:
# main and test classes and every dependency, test scope included. For the bench scripts.
cachefs_bench_classpath() {
  echo "bench: building the test classes" >&2
  # Maven 3.8 prints colour resets even with -B: strip them, and let the plugin write the
  # classpath to a file rather than to stdout.
  (cd "$CACHEFS_HOME" && mvn -q -B -DskipTests test-compile) 2>&1 | sed $'s/\e\\[[0-9;]*m//g' >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || cachefs_die "build failed (see the Maven output above)"
  (cd "$CACHEFS_HOME" && mvn -q -B dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt) 2>&1 | sed $'s/\e\\[[0-9;]*m//g' >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || cachefs_die "could not compute the test classpath"
  echo "$CACHEFS_HOME/target/classes:$CACHEFS_HOME/target/test-classes:$(cat "$CACHEFS_HOME/target/bench-classpath.txt")"
}
